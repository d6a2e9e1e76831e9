//! permessage-deflate (RFC 7692) at run time: what one connection agreed, packed in a byte
//! ([`Params`]); the loop's one compressor and one decompressor that every connection in the
//! default mode shares, reset after each message ([`SharedDeflate`]); the contexts of a
//! connection in takeover mode ([`OwnContexts`]); and the zlib calls themselves
//! ([`Deflater`], [`Inflater`]). The negotiation is `http::extensions`; the frame reader
//! inflates, the connection link compresses. Built with the cargo feature `deflate`; without
//! it `off.rs` replaces this module (same API, never negotiated).

mod cache;
mod codec;
mod own;
mod params;
mod shared;

pub(crate) use codec::{Deflater, InflateError, Inflater};
pub(crate) use own::OwnContexts;
pub(crate) use params::Params;
pub(crate) use shared::SharedDeflate;

/// The RSV1 bit of a frame's first byte: "this message is compressed" (RFC 7692 §6).
pub(crate) const RSV1: u8 = 0x40;
