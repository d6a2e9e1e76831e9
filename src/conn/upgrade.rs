//! READING_HEAD => OPEN: pick the subprotocol, let it filter the request, negotiate
//! permessage-deflate, answer 101 and hand the bytes that came after the head to the frame
//! reader so no early frame is lost. Nothing is copied out of the request: the key and the
//! offered subprotocols are read where they lie.

use super::http_request::{respond_and_close, respond_error};
use super::websocket::WsSession;
use super::{Env, Ident, Phase, Wire};
use crate::deflate::Params;
use crate::http::extensions::{negotiate_deflate, DeflateAgreement};
use crate::http::upgrade::{accept_response_with_extensions, offered_protocols};
use crate::http::Request;
use crate::protocol::{Outcome, ProtocolIndex};
use log::info;

/// Open a WebSocket for a valid upgrade request (`key` is its `Sec-WebSocket-Key`), or answer
/// why not.
pub(crate) fn open(
    request: &Request,
    key: &str,
    leftover: Vec<u8>,
    wire: &mut Wire,
    ident: Ident,
    env: &mut Env<'_>,
) -> Phase {
    if env.shutting_down {
        return respond_error(503, "server shutting down", Some(request), wire, ident, env);
    }
    if !origin_allowed(request, env) {
        info!("{} Origin not allowed", ident.id);
        return respond_error(403, "origin not allowed", Some(request), wire, ident, env);
    }
    let (selected, offered_any) = select_protocol(request, env);
    let Some(index) = selected else {
        let detail = refusal_detail(offered_any, env);
        return respond_error(400, &detail, Some(request), wire, ident, env);
    };
    let session = env.table.new_session(index);
    let streams = env.table.streams_fragments(index);
    let mut ws = WsSession::new(index, session, streams, &leftover, env);
    match ws.filter(request, wire, ident, env) {
        Outcome::Continue => {}
        Outcome::Reject { status, reason } => {
            info!(
                "{} refused by {}: {status}",
                ident.id,
                env.table.name(index)
            );
            return respond_error(status, reason, Some(request), wire, ident, env);
        }
        Outcome::Respond(response) => {
            return respond_and_close(response, Some(request), wire, ident, env);
        }
        _ => return respond_error(403, "refused", Some(request), wire, ident, env),
    }
    // Echo the protocol only if the client offered one (RFC 6455 §4.2.2).
    let echoed = offered_any.then(|| env.table.name(index));
    let deflate = deflate_agreement(request, index, env);
    let extensions = deflate.as_ref().map(DeflateAgreement::response);
    accept_response_with_extensions(key, echoed, extensions.as_deref(), wire.out.buffer());
    ws.set_deflate(deflate.as_ref().map_or(Params::OFF, Params::agreed));
    if log::log_enabled!(log::Level::Info) {
        // The peer's address is asked of the kernel, not kept in every connection.
        let peer = wire.transport.peer_addr().map(|peer| peer.to_string());
        let peer = peer.as_deref().unwrap_or("?");
        let compressed = if deflate.is_some() {
            ", permessage-deflate"
        } else {
            ""
        };
        info!(
            "{ident} {peer} connected ({}{compressed})",
            env.table.name(index)
        );
    }
    env.stats.session_opened(index);
    ws.established(wire, ident, env);
    Phase::Open(ws)
}

/// permessage-deflate for this upgrade: the server offers it (`Config::deflate`), the
/// protocol accepts it (`Protocol::compresses`) and one of the client's offers is acceptable.
fn deflate_agreement(
    request: &Request,
    index: ProtocolIndex,
    env: &Env<'_>,
) -> Option<DeflateAgreement> {
    let policy = Params::policy(env.config.deflate, env.config.deflate_window_bits)?;
    if !env.table.compresses(index) {
        return None;
    }
    negotiate_deflate(request.headers_named("sec-websocket-extensions"), policy)
}

/// With an allow-list configured, the request must carry exactly one `Origin`, and it must
/// be on the list exactly (a second one would slip past a check of the first).
fn origin_allowed(request: &Request, env: &Env<'_>) -> bool {
    let allowed = &env.config.allowed_origins;
    allowed.is_empty()
        || (request.header_count("origin") == 1
            && request
                .header_str("origin")
                .is_some_and(|origin| allowed.iter().any(|entry| entry == origin)))
}

/// The first offered name the table knows; with no offer, the table's default protocol. And
/// whether the client offered any (one pass over the offer).
fn select_protocol(request: &Request, env: &Env<'_>) -> (Option<ProtocolIndex>, bool) {
    let mut offered_any = false;
    for name in offered_protocols(request) {
        offered_any = true;
        if let Some(index) = env.table.find(name) {
            return (Some(index), true);
        }
    }
    if offered_any {
        (None, true)
    } else {
        (env.table.default_websocket(), false)
    }
}

fn refusal_detail(offered_any: bool, env: &Env<'_>) -> String {
    if offered_any {
        let supported = env.table.websocket_names().join(", ");
        format!("none of the offered subprotocols is supported; supported: {supported}")
    } else {
        "this server has no WebSocket protocol".to_owned()
    }
}
