//! [`Writer`]: encodes a recording into any `std::io::Write` (a file, a `Vec<u8>`).
//!
//! Tick records are gathered into a block and written as one checksummed (and, by default,
//! zstd-compressed) frame when the block holds [`WriterOptions::block_ticks`] ticks or
//! [`WriterOptions::block_bytes`] bytes; a keyframe or the end first writes the pending block,
//! so that frames stay in tick order. Nothing is written that a reader could not use: a frame
//! is encoded whole in memory and handed to the output in one `write_all`.

use std::io::Write;

use crate::format::{
    CODEC_NONE, CODEC_ZSTD, End, FORMAT_VERSION, Header, KIND_BLOCK, KIND_END, KIND_HEADER,
    KIND_KEYFRAME, Keyframe, MAGIC, MAX_BLOCK_RAW_BYTES, MAX_FRAME_BYTES, TickRecord, encode_end,
    encode_header, encode_keyframe, encode_tick, put_var,
};

/// How blocks are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Stored as they are.
    None,
    /// zstd at this level (1..=22; 3 is zstd's default).
    Zstd(i32),
}

/// Writer settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterOptions {
    /// Block compression (default zstd level 3).
    pub compression: Compression,
    /// Ticks per block (default 32, about a second at 30 Hz): what a crash can lose at most.
    pub block_ticks: u32,
    /// Raw bytes that close a block early (default 256 KiB; at most the format's limit).
    pub block_bytes: usize,
}

impl Default for WriterOptions {
    fn default() -> Self {
        Self { compression: Compression::Zstd(3), block_ticks: 32, block_bytes: 256 << 10 }
    }
}

/// Why a recording could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The output refused bytes (full disk, file size limit, closed pipe...).
    #[error("writing the recording: {0}")]
    Io(#[from] std::io::Error),
    /// One frame would exceed the format's limit (a keyframe or header too large).
    #[error("{what} of {len} bytes exceeds the format's frame limit")]
    TooLarge {
        /// What.
        what: &'static str,
        /// Its size.
        len: usize,
    },
}

/// Writes one recording (see the module docs).
#[derive(Debug)]
pub struct Writer<W: Write> {
    out: W,
    options: WriterOptions,
    /// The pending block's tick records, encoded.
    block: Vec<u8>,
    block_count: u32,
    block_first: u32,
    /// Scratch for one frame.
    frame: Vec<u8>,
    written: u64,
    raw: u64,
}

impl<W: Write> Writer<W> {
    /// Starts a recording: writes the magic, the version and the header frame.
    pub fn new(mut out: W, header: &Header, options: WriterOptions) -> Result<Self, WriteError> {
        let mut start = Vec::with_capacity(6);
        start.extend_from_slice(&MAGIC);
        start.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.write_all(&start)?;
        let options = WriterOptions {
            block_ticks: options.block_ticks.max(1),
            block_bytes: options.block_bytes.clamp(1, MAX_BLOCK_RAW_BYTES / 2),
            ..options
        };
        let mut w = Self {
            out,
            options,
            block: Vec::new(),
            block_count: 0,
            block_first: 0,
            frame: Vec::new(),
            written: start.len() as u64,
            raw: start.len() as u64,
        };
        let mut body = Vec::new();
        encode_header(header, &mut body);
        w.raw += body.len() as u64 + 9;
        w.write_frame(KIND_HEADER, &body, "header")?;
        Ok(w)
    }

    /// Adds one tick record; writes the block when it is full.
    pub fn tick(&mut self, record: &TickRecord) -> Result<(), WriteError> {
        if self.block_count == 0 {
            self.block_first = record.tick.0;
        }
        let before = self.block.len();
        encode_tick(record, &mut self.block);
        self.raw += (self.block.len() - before) as u64;
        self.block_count += 1;
        if self.block_count >= self.options.block_ticks
            || self.block.len() >= self.options.block_bytes
        {
            self.write_block()?;
        }
        Ok(())
    }

    /// Writes a keyframe (after the pending block).
    pub fn keyframe(&mut self, keyframe: &Keyframe) -> Result<(), WriteError> {
        self.write_block()?;
        let mut body = Vec::with_capacity(keyframe.payload.len() + 5);
        encode_keyframe(keyframe, &mut body);
        self.raw += body.len() as u64 + 9;
        self.write_frame(KIND_KEYFRAME, &body, "keyframe")
    }

    /// Writes the pending block and flushes the output.
    pub fn flush(&mut self) -> Result<(), WriteError> {
        self.write_block()?;
        self.out.flush()?;
        Ok(())
    }

    /// Writes the pending block and the end, flushes, and gives the output back.
    pub fn finish(mut self, end: &End) -> Result<W, WriteError> {
        self.write_block()?;
        let mut body = Vec::new();
        encode_end(end, &mut body);
        self.raw += body.len() as u64 + 9;
        self.write_frame(KIND_END, &body, "end")?;
        self.out.flush()?;
        Ok(self.out)
    }

    /// Bytes handed to the output so far.
    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    /// What the recording would weigh uncompressed, bytes (for measurements).
    pub fn raw_bytes(&self) -> u64 {
        self.raw
    }

    /// The output.
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    fn write_block(&mut self) -> Result<(), WriteError> {
        if self.block_count == 0 {
            return Ok(());
        }
        let mut body = Vec::with_capacity(self.block.len() / 2 + 16);
        let compressed = match self.options.compression {
            Compression::None => None,
            // A block that does not shrink is stored as it is.
            Compression::Zstd(level) => {
                zstd::bulk::compress(&self.block, level).ok().filter(|c| c.len() < self.block.len())
            }
        };
        body.push(if compressed.is_some() { CODEC_ZSTD } else { CODEC_NONE });
        put_var(&mut body, u64::from(self.block_first));
        put_var(&mut body, u64::from(self.block_count));
        put_var(&mut body, self.block.len() as u64);
        // Block header overhead, counted in the raw size too.
        self.raw += body.len() as u64 + 9;
        body.extend_from_slice(compressed.as_deref().unwrap_or(&self.block));
        self.block.clear();
        self.block_count = 0;
        self.write_frame(KIND_BLOCK, &body, "block")
    }

    fn write_frame(&mut self, kind: u8, body: &[u8], what: &'static str) -> Result<(), WriteError> {
        let len = body.len() + 1;
        if len > MAX_FRAME_BYTES {
            return Err(WriteError::TooLarge { what, len });
        }
        let mut crc = crc32fast::Hasher::new();
        crc.update(&[kind]);
        crc.update(body);
        self.frame.clear();
        self.frame.extend_from_slice(&(len as u32).to_le_bytes());
        self.frame.extend_from_slice(&crc.finalize().to_le_bytes());
        self.frame.push(kind);
        self.frame.extend_from_slice(body);
        self.out.write_all(&self.frame)?;
        self.written += self.frame.len() as u64;
        Ok(())
    }
}
