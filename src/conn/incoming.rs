//! One read pass over an open (or closing) WebSocket: the server's read buffer is lent for the
//! pass, each read is handed to the connection's [`FrameReader`] as a [`Chunk`], and what the
//! reader could not use yet is kept by it when the pass ends.

use super::frame_reader::{Chunk, FrameReader, Inflating, Item, Limits, Violation};
use super::{Env, Wire};
use crate::deflate::Params;
use crate::net::{would_block, ReadBudget, ReadState};
use bytes::Bytes;

/// Why a pass produced no item.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// Nothing more until the socket is readable again (or the budget refills).
    Blocked,
    /// The connection ended without (the rest of) a close handshake.
    Gone(String),
    /// The peer broke the protocol (or a limit): close with this code.
    Violation(Violation),
}

/// A read pass in progress.
pub(crate) struct ReadPass {
    budget: ReadBudget,
    chunk: Chunk,
}

impl ReadPass {
    pub fn begin(wire: &Wire, env: &mut Env<'_>) -> Self {
        let arena = std::mem::take(env.arena);
        ReadPass {
            budget: env.begin_read(wire),
            chunk: FrameReader::chunk(Bytes::new(), 0, arena),
        }
    }

    /// The next item, reading from the socket within the budget as needed; compressed
    /// messages are inflated as `deflate` agreed, with the loop's shared codec.
    pub fn next(
        &mut self,
        reader: &mut FrameReader,
        whole_messages: bool,
        deflate: Params,
        wire: &Wire,
        env: &mut Env<'_>,
    ) -> Result<Item, ReadError> {
        let limits = Limits::of(env.config);
        loop {
            let room = env.incoming_room();
            let mut inflating = Inflating {
                params: deflate,
                shared: &mut *env.deflate,
            };
            match reader.next(
                &mut self.chunk,
                whole_messages,
                limits,
                room,
                &mut inflating,
            ) {
                Ok(Some(item)) => return Ok(item),
                Ok(None) => {}
                Err(violation) => return Err(ReadError::Violation(violation)),
            }
            let state = self.budget.state;
            if state.drained || state.budget_exhausted || state.eof {
                return Err(ReadError::Blocked);
            }
            let (root, arena) = std::mem::take(&mut self.chunk).into_parts();
            self.budget.thaw(root);
            match self.budget.read_chunk(&wire.transport, usize::MAX) {
                Ok([]) => return Err(ReadError::Gone("peer closed without a close frame".into())),
                Ok(bytes) => {
                    reader.prepare(bytes);
                    let len = bytes.len();
                    self.chunk = FrameReader::chunk(self.budget.freeze(), len, arena);
                }
                Err(err) if would_block(&err) => return Err(ReadError::Blocked),
                Err(err) => return Err(ReadError::Gone(err.to_string())),
            }
        }
    }

    /// End the pass: the reader keeps what it has not parsed, the buffer goes back to the
    /// server. Fails if keeping it would pass the server's incoming budget.
    pub fn end(
        mut self,
        reader: &mut FrameReader,
        wire: &mut Wire,
        env: &mut Env<'_>,
    ) -> (ReadState, Result<(), Violation>) {
        let kept = reader.keep_rest(&mut self.chunk, env.incoming_room());
        let (root, arena) = self.chunk.into_parts();
        self.budget.thaw(root);
        *env.arena = arena;
        let state = env.end_read(self.budget);
        wire.note_read(state);
        (state, kept)
    }
}
