//! What to do with one complete request head: a WebSocket upgrade, `/status`, the publish
//! endpoint, the HTTP entry's own answer (perhaps after reading the body), a static file, or
//! an error status; and queuing the response.

use super::publish;
use super::reading_body::{BodyReader, Sink};
use super::serving_file::{Body, FileSend};
use super::upgrade;
use super::{lend, Env, Ident, Phase, Wire};
use crate::http::methods::{refuse_other_methods, STATIC_ALLOW};
use crate::http::request::BodyFraming;
use crate::http::upgrade::check_upgrade_key;
use crate::http::{FileRequest, Method, Reply, Request, Response};
use crate::log_text::printable;
use crate::protocol::{Context, Event, Outcome, SessionRequests};
use log::info;
use std::any::Any;

/// The table's HTTP entry, which receives `Reason::Http`.
const HTTP_ENTRY: usize = 0;

/// Route one request and return the phase that sends its answer (or reads its body first).
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
    let framing = match request.body_framing() {
        Ok(framing) => framing,
        Err(err) => return respond_error(err.status(), err.detail(), wire, env),
    };
    let has_body = !matches!(framing, BodyFraming::None | BodyFraming::ContentLength(0));
    // An expectation is about the body (RFC 9110 §10.1.1): without one there is nothing to
    // expect, and the common request pays no scan for it.
    if let Some(Err(err)) = has_body.then(|| request.expects_continue()) {
        return respond_error(err.status(), err.detail(), wire, env);
    }
    match check_upgrade_key(&request) {
        Ok(None) => {}
        Ok(Some(_)) if has_body => {
            return respond_error(400, "a WebSocket upgrade has no body", wire, env)
        }
        Ok(Some(key)) => return upgrade::open(&request, key, leftover, wire, ident, env),
        Err(refusal) => return respond_and_close(refusal, Some(&request), wire, ident, env),
    }
    let unread = Unread { has_body, leftover };
    if let Some(response) = status_response(&request, env) {
        return unread.respond(response.into(), &request, wire, ident, env);
    }
    if let Some(route) = publish::route(&request, env) {
        return match route {
            Ok(sink) => {
                BodyReader::start(request, framing, sink, unread.leftover, wire, ident, env)
            }
            Err(response) => unread.respond(response.into(), &request, wire, ident, env),
        };
    }
    match ask_http_entry(Event::Http(&request), None, wire, ident, env) {
        EntryAnswer::ReadBody => {
            let sink = Sink::Protocol(env.table.new_session(HTTP_ENTRY));
            BodyReader::start(request, framing, sink, unread.leftover, wire, ident, env)
        }
        EntryAnswer::Respond(response) => unread.respond(response, &request, wire, ident, env),
        EntryAnswer::Refused => respond_error(403, "refused", wire, env),
        EntryAnswer::Default => {
            let response = static_response(&request, env);
            unread.respond(response, &request, wire, ident, env)
        }
    }
}

/// A request answered before its body is read: what came after the head is the body (or
/// part of it), never a next request, so the connection closes after the answer; with no
/// body it may stay open, keeping what was pipelined.
struct Unread {
    has_body: bool,
    leftover: Vec<u8>,
}

impl Unread {
    fn respond(
        self,
        response: Reply,
        request: &Request,
        wire: &mut Wire,
        ident: Ident,
        env: &mut Env<'_>,
    ) -> Phase {
        if self.has_body {
            return respond(response, Some(request), false, Vec::new(), wire, ident, env);
        }
        let keep_alive = request.keep_alive() && !env.shutting_down;
        respond(
            response,
            Some(request),
            keep_alive,
            self.leftover,
            wire,
            ident,
            env,
        )
    }
}

/// What the HTTP entry's outcome asks for.
pub(crate) enum EntryAnswer {
    /// This response.
    Respond(Reply),
    /// Read the body (in `Reason::Http` only).
    ReadBody,
    /// It asked to close the connection: `403`.
    Refused,
    /// `Continue`: answer as the server would without it (static files).
    Default,
}

/// Give the HTTP entry `event` (with the request's `session` once it reads a body).
/// A panicking HTTP entry answers 500 to this request only.
pub(crate) fn ask_http_entry(
    event: Event<'_>,
    session: Option<&mut dyn Any>,
    wire: &mut Wire,
    ident: Ident,
    env: &mut Env<'_>,
) -> EntryAnswer {
    let mut requests = SessionRequests::default();
    let lent = lend(false, &mut requests, wire, ident, None, env);
    let mut cx = Context::for_connection(lent.link, HTTP_ENTRY, lent.loop_requests, lent.now);
    let outcome = lent.table.dispatch(HTTP_ENTRY, &mut cx, session, event);
    match outcome.unwrap_or_else(|_| Outcome::reject(500, "internal error")) {
        Outcome::Respond(response) => EntryAnswer::Respond(response.into()),
        Outcome::Reject { status, reason } => {
            EntryAnswer::Respond(Response::error(status, reason).into())
        }
        Outcome::Close { .. } => EntryAnswer::Refused,
        Outcome::ReadBody => EntryAnswer::ReadBody,
        Outcome::Continue => EntryAnswer::Default,
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

/// GET and HEAD of files under the www root (from memory, head and all, when cached);
/// every other method is refused (see [`refuse_other_methods`]).
pub(crate) fn static_response(request: &Request, env: &mut Env<'_>) -> Reply {
    if let Some(refusal) = refuse_other_methods(request.method(), STATIC_ALLOW) {
        return refusal.into();
    }
    match env.files.as_deref_mut() {
        Some(files) => files.respond(&FileRequest::from(request), env.now),
        None => Response::error(404, "no files are served here").into(),
    }
}

/// Queue `reply`'s head for `request` and move to SERVING_FILE, which sends the body.
pub(crate) fn respond(
    reply: Reply,
    request: Option<&Request>,
    keep_alive: bool,
    leftover: Vec<u8>,
    wire: &mut Wire,
    ident: Ident,
    env: &mut Env<'_>,
) -> Phase {
    let head_only = request.is_some_and(|request| request.method() == &Method::Head);
    let http10 = request.is_some_and(|request| request.minor_version() == 0);
    let response = reply.response;
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
    let date = env.date.at(env.now);
    response.write_head(wire.out.buffer(), date, keep_alive, http10);
    let body = if head_only {
        Body::Memory(Default::default())
    } else {
        match reply.file {
            Some(region) => Body::File(region),
            None => Body::Memory(response.into_body()),
        }
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
