//! What to do with one complete request head: a WebSocket upgrade, the HTTP entry's own
//! answer, a static file, or an error status; and queuing the response.

use super::serving_file::FileSend;
use super::upgrade;
use super::{lend, Env, Ident, Phase, Wire};
use crate::http::request::BodyFraming;
use crate::http::upgrade::check_upgrade_key;
use crate::http::{Method, PreparedResponse, Request, Response};
use crate::log_text::printable;
use crate::protocol::{Context, Event, Outcome, SessionRequests};
use log::info;

/// The table's HTTP entry, which receives `Reason::Http`.
const HTTP_ENTRY: usize = 0;

/// Route one request and return the phase that sends its answer.
pub(crate) fn answer(
    request: Request,
    leftover: Vec<u8>,
    wire: &mut Wire,
    ident: Ident,
    env: &mut Env<'_>,
) -> Phase {
    let respond_error = |status, detail, wire: &mut Wire, env: &mut Env<'_>| {
        respond_error(status, detail, Some(&request), wire, ident, env)
    };
    // RFC 9110 §7.2: an HTTP/1.1 request without exactly one Host is a 400.
    if request.minor_version() == 1 && request.header_count("host") != 1 {
        return respond_error(400, "HTTP/1.1 needs exactly one Host header", wire, env);
    }
    match request.body_framing() {
        Ok(BodyFraming::None) | Ok(BodyFraming::ContentLength(0)) => {}
        Ok(_) => return respond_error(413, "request bodies are not accepted", wire, env),
        Err(_) => return respond_error(400, "invalid body framing", wire, env),
    }
    match check_upgrade_key(&request) {
        Ok(None) => {}
        Ok(Some(key)) => return upgrade::open(&request, key, leftover, wire, ident, env),
        Err(refusal) => return respond_and_close(refusal, Some(&request), wire, ident, env),
    }
    if let Some(response) = status_response(&request, env) {
        return respond(
            response.into(),
            Some(&request),
            request.keep_alive(),
            leftover,
            wire,
            ident,
            env,
        );
    }
    match ask_http_entry(&request, wire, ident, env) {
        Some(response) => {
            let keep_alive = request.keep_alive() && !env.shutting_down;
            respond(
                response,
                Some(&request),
                keep_alive,
                leftover,
                wire,
                ident,
                env,
            )
        }
        None => respond_error(403, "refused", wire, env),
    }
}

/// Give the HTTP entry its `Reason::Http`; `None` means it asked to close the connection.
fn ask_http_entry(
    request: &Request,
    wire: &mut Wire,
    ident: Ident,
    env: &mut Env<'_>,
) -> Option<PreparedResponse> {
    let mut requests = SessionRequests::default();
    let lent = lend(false, &mut requests, wire, ident, None, env);
    let mut cx = Context::for_connection(lent.link, HTTP_ENTRY, lent.loop_requests, lent.now);
    let outcome = lent
        .table
        .dispatch(HTTP_ENTRY, &mut cx, None, Event::Http(request));
    // A panicking HTTP entry answers 500 to this request only.
    match outcome.unwrap_or_else(|_| Outcome::reject(500, "internal error")) {
        Outcome::Respond(response) => Some(response.into()),
        Outcome::Reject { status, reason } => Some(Response::error(status, reason).into()),
        Outcome::Close { .. } => None,
        _ => Some(static_response(request, env)),
    }
}

/// `/status` and `/metrics`, when `--status` turned them on.
fn status_response(request: &Request, env: &Env<'_>) -> Option<Response> {
    if !env.config.status_endpoints || !matches!(request.method(), Method::Get | Method::Head) {
        return None;
    }
    let name = |index| env.table.name(index).to_owned();
    let view = || crate::server::process_stats(env.stats, env.stats_seat);
    match request.path() {
        "/status" => Some(
            Response::new(200)
                .with_body("application/json", {
                    let (total, loops) = view();
                    total.to_json(env.now, name, &loops)
                })
                .with_header("Cache-Control", "no-store"),
        ),
        "/metrics" => Some(
            Response::new(200)
                .with_body("text/plain; version=0.0.4; charset=utf-8", {
                    let (total, loops) = view();
                    total.to_prometheus(env.now, name, &loops)
                })
                .with_header("Cache-Control", "no-store"),
        ),
        _ => None,
    }
}

/// GET and HEAD of files under the www root (from memory, head and all, when cached); 405
/// for every other method.
fn static_response(request: &Request, env: &mut Env<'_>) -> PreparedResponse {
    match (request.method(), env.files.as_deref_mut()) {
        (Method::Get | Method::Head, Some(files)) => files.respond(request.path(), env.now),
        (Method::Get | Method::Head, None) => {
            Response::error(404, "no files are served here").into()
        }
        _ => Response::error(405, "only GET and HEAD are served")
            .with_header("Allow", "GET, HEAD")
            .into(),
    }
}

/// Queue `response`'s head for `request` and move to SERVING_FILE, which sends the body.
pub(crate) fn respond(
    response: PreparedResponse,
    request: Option<&Request>,
    keep_alive: bool,
    leftover: Vec<u8>,
    wire: &mut Wire,
    ident: Ident,
    env: &mut Env<'_>,
) -> Phase {
    let head_only = request.is_some_and(|request| request.method() == &Method::Head);
    let http10 = request.is_some_and(|request| request.minor_version() == 0);
    match request {
        Some(request) => info!(
            "{} {} {} -> {}",
            ident.id,
            request.method().as_str(),
            printable(request.target(), 200),
            response.status()
        ),
        None => info!("{} bad request -> {}", ident.id, response.status()),
    }
    env.stats.responded(response.status());
    response.write_head(wire.out.buffer(), keep_alive, http10);
    let body = if head_only {
        Default::default()
    } else {
        response.into_body()
    };
    Phase::serving(FileSend::new(body, keep_alive, leftover, env))
}

/// Queue `response` and close the connection once it is sent.
pub(crate) fn respond_and_close(
    response: Response,
    request: Option<&Request>,
    wire: &mut Wire,
    ident: Ident,
    env: &mut Env<'_>,
) -> Phase {
    respond(
        response.into(),
        request,
        false,
        Vec::new(),
        wire,
        ident,
        env,
    )
}

/// Answer with an error status and close the connection once it is sent.
pub(crate) fn respond_error(
    status: u16,
    detail: &str,
    request: Option<&Request>,
    wire: &mut Wire,
    ident: Ident,
    env: &mut Env<'_>,
) -> Phase {
    respond_and_close(Response::error(status, detail), request, wire, ident, env)
}
