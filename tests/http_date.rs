//! The `Date` header (RFC 9110 §6.6.1) on every response the server makes, over raw sockets
//! and curl: static files (200, HEAD, 206, 304, 412, 416), errors (400, 404, 405, 501),
//! `OPTIONS` (204), `/status`, `/metrics`, an HTTP publish (204) and a protocol callback's
//! own response. Each carries exactly one `Date`, an IMF-fixdate whose weekday matches its
//! day, within a few seconds of the test's clock; and the date moves on with the clock.

mod support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use support::files::curl;
use support::http::{HttpConn, HttpResponse};
use support::inproc::InProcess;
use support::ServerProcess;
use wsloop::demo::EchoBody;
use wsloop::{Config, ProtocolTable};

/// How far a response's date may be from the test's clock (the date is cut to the second,
/// and a loaded machine may take a moment to answer).
const SLACK_SECS: u64 = 5;

const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Seconds since 1970 of an IMF-fixdate, `None` unless `text` is exactly one (RFC 9110
/// §5.6.7), including a weekday that is that date's.
fn parse_imf_fixdate(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.len() != 29 || &text[3..5] != ", " || &text[25..] != " GMT" {
        return None;
    }
    let spaced = [7, 11, 16].iter().all(|&i| b[i] == b' ');
    if !spaced || b[19] != b':' || b[22] != b':' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u64> {
        let digits = &text[range];
        digits
            .bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| digits.parse().ok())?
    };
    let day = number(5..7)?;
    let month = MONTHS.iter().position(|&m| m == &text[8..11])? as u64 + 1;
    let year = number(12..16)?;
    let (hour, minute, second) = (number(17..19)?, number(20..22)?, number(23..25)?);
    if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 || year < 1970 {
        return None;
    }
    // Days since 1970 by counting: years, then months of this year, then days.
    let leap = |y: u64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap(year) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if day > month_days[month as usize - 1] {
        return None;
    }
    let days = (1970..year)
        .map(|y| if leap(y) { 366 } else { 365 })
        .sum::<u64>()
        + month_days[..month as usize - 1].iter().sum::<u64>()
        + day
        - 1;
    if WEEKDAYS[(days % 7) as usize] != &text[..3] {
        return None;
    }
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `dates` (the `Date` values of one response) is one well-formed date close to now.
#[track_caller]
fn assert_one_current_date(what: &str, dates: &[&str]) {
    assert_eq!(dates.len(), 1, "{what}: one Date header, got {dates:?}");
    let date = parse_imf_fixdate(dates[0])
        .unwrap_or_else(|| panic!("{what}: Date {:?} is no IMF-fixdate", dates[0]));
    let now = unix_now();
    assert!(
        date + SLACK_SECS >= now && date <= now + SLACK_SECS,
        "{what}: Date {:?} is {} s from now",
        dates[0],
        now as i64 - date as i64
    );
}

#[track_caller]
fn assert_dated(what: &str, response: &HttpResponse, status: u16) {
    assert_eq!(response.status, status, "{what}: {response:?}");
    let dates: Vec<&str> = response
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("date"))
        .map(|(_, value)| value.as_str())
        .collect();
    assert_one_current_date(what, &dates);
}

#[test]
fn the_parser_knows_good_dates_from_bad() {
    assert_eq!(
        parse_imf_fixdate("Sun, 06 Nov 1994 08:49:37 GMT"),
        Some(784_111_777)
    );
    assert_eq!(
        parse_imf_fixdate("Thu, 29 Feb 2024 00:00:00 GMT"),
        Some(1_709_164_800)
    );
    for bad in [
        "Mon, 06 Nov 1994 08:49:37 GMT", // wrong weekday
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
        "Thu, 29 Feb 2023 00:00:00 GMT", // no leap day in 2023
        "Sun, 06 Nov 1994 24:49:37 GMT",
    ] {
        assert_eq!(parse_imf_fixdate(bad), None, "{bad}");
    }
}

#[test]
fn every_kind_of_response_carries_the_date() {
    let token = "date-test-token-0123456789abcdef";
    let server = ServerProcess::start_with(&["--status", "--publish-token", token]);
    let mut conn = HttpConn::open(server.addr());
    let mut ask = |what: &str, request: String, head_only: bool, status: u16| {
        conn.send(request.as_bytes());
        let response = conn.read_response(head_only);
        assert_dated(what, &response, status);
        response
    };
    let get = |path: &str, extra: &str| format!("GET {path} HTTP/1.1\r\nHost: t\r\n{extra}\r\n");

    let index = ask("GET /", get("/", ""), false, 200);
    let etag = index.header("etag").expect("an ETag").to_owned();
    ask(
        "HEAD /",
        "HEAD / HTTP/1.1\r\nHost: t\r\n\r\n".into(),
        true,
        200,
    );
    ask("range", get("/", "Range: bytes=0-9\r\n"), false, 206);
    let revalidate = format!("If-None-Match: {etag}\r\n");
    ask("revalidation", get("/", &revalidate), false, 304);
    ask("If-Match", get("/", "If-Match: \"other\"\r\n"), false, 412);
    ask(
        "range past the end",
        get("/", "Range: bytes=999999999-\r\n"),
        false,
        416,
    );
    ask("no such file", get("/no-such-file", ""), false, 404);
    ask(
        "OPTIONS",
        "OPTIONS / HTTP/1.1\r\nHost: t\r\n\r\n".into(),
        false,
        204,
    );
    ask(
        "DELETE",
        "DELETE / HTTP/1.1\r\nHost: t\r\n\r\n".into(),
        false,
        405,
    );
    ask("/status", get("/status", ""), false, 200);
    ask("/metrics", get("/metrics", ""), false, 200);
    let publish = format!(
        "POST /publish/news HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n\
         Content-Length: 2\r\n\r\nhi"
    );
    ask("publish", publish, false, 204);
    let unauthorized = "POST /publish/news HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n";
    ask("publish without a token", unauthorized.into(), false, 401);
    ask(
        "unknown method",
        "BREW / HTTP/1.1\r\nHost: t\r\n\r\n".into(),
        false,
        501,
    );

    // A refused head closes the connection: the last one, on its own connection.
    let mut bad = HttpConn::open(server.addr());
    bad.send(b"GET / HTTP/1.1\r\n\r\n");
    assert_dated("no Host", &bad.read_response(false), 400);
}

#[test]
fn a_protocol_callbacks_own_response_carries_the_date() {
    let server = InProcess::start(Config::default(), || ProtocolTable::with_http(EchoBody));
    let mut conn = HttpConn::open(server.addr);
    conn.send(b"POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc");
    let response = conn.read_response(false);
    assert_eq!(response.body, b"abc");
    assert_dated("echo", &response, 200);
}

#[test]
fn curl_sees_one_current_date() {
    let server = ServerProcess::start();
    let response = curl("date", &[&format!("{}/", server.http_url())]);
    assert!(response.success, "curl failed: {}", response.heads);
    let dates: Vec<&str> = response
        .heads
        .lines()
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| name.eq_ignore_ascii_case("date"))
        .map(|(_, value)| value.trim())
        .collect();
    assert_one_current_date("curl GET /", &dates);
}

#[test]
fn the_date_moves_on_with_the_clock() {
    let server = ServerProcess::start();
    let mut conn = HttpConn::open(server.addr());
    let mut date = || {
        conn.send(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n");
        let response = conn.read_response(true);
        assert_dated("HEAD /", &response, 200);
        response.header("date").unwrap().to_owned()
    };
    let first = date();
    // The cached date must change within about a second; ask until it does (bounded).
    let deadline = Instant::now() + Duration::from_secs(SLACK_SECS);
    let mut later = date();
    while later == first && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        later = date();
    }
    assert_ne!(later, first, "the date stayed {first} for {SLACK_SECS} s");
    let (first, later) = (parse_imf_fixdate(&first), parse_imf_fixdate(&later));
    assert!(later > first, "{later:?} after {first:?}");
}
