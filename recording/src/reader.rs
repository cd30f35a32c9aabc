//! [`Reader`]: reads a recording back from any `std::io::Read`, frame by frame, with bounded
//! memory; [`read_all`] reads a whole one from bytes.
//!
//! A recording cut short (a crash, a kill, a full disk) reads up to its last whole frame: the
//! reader then returns `Ok(None)` and [`Reader::tail`] says [`Tail::Truncated`]. A whole frame
//! whose CRC does not match is corruption, not a cut, and is an error
//! ([`ReadError::Format`]); the records before it were valid.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read};

use crate::format::{
    CODEC_NONE, CODEC_ZSTD, Cursor, End, FORMAT_VERSION, FormatError, Header, KIND_BLOCK, KIND_END,
    KIND_HEADER, KIND_KEYFRAME, MAGIC, MAX_BLOCK_RAW_BYTES, MAX_FRAME_BYTES, Record, TickRecord,
    decode_end, decode_header, decode_keyframe, decode_tick,
};

/// Why a recording could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The input failed.
    #[error("reading the recording: {0}")]
    Io(#[from] std::io::Error),
    /// The bytes are not a valid recording.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// The file ends before its header is whole.
    #[error("the recording ends before its header")]
    NoHeader,
}

/// How a recording's records ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tail {
    /// With an end record: the recording was closed cleanly.
    Ended(End),
    /// Without one: the file stops after the last whole frame, at byte `whole_bytes`, with
    /// `partial_bytes` of an incomplete frame after it (0 if it stops between frames).
    Truncated {
        /// Bytes of whole frames (the file's usable prefix).
        whole_bytes: u64,
        /// Bytes of the incomplete frame after them.
        partial_bytes: u64,
    },
}

/// Reads one recording (see the module docs).
#[derive(Debug)]
pub struct Reader<R: Read> {
    src: R,
    header: Header,
    /// Decoded tick records of the current block, not yet returned.
    pending: VecDeque<TickRecord>,
    /// File offset of the next frame.
    offset: u64,
    tail: Option<Tail>,
    frame: Vec<u8>,
}

enum Frame {
    Whole { kind: u8, offset: u64 },
    Eof { partial: u64 },
}

impl<R: Read> Reader<R> {
    /// Reads the magic, the version and the header.
    pub fn new(mut src: R) -> Result<Self, ReadError> {
        let mut start = [0u8; 6];
        let got = read_full(&mut src, &mut start)?;
        if got < 4 {
            return Err(if start[..got] == MAGIC[..got] {
                ReadError::NoHeader
            } else {
                FormatError::BadMagic.into()
            });
        }
        if start[..4] != MAGIC {
            return Err(FormatError::BadMagic.into());
        }
        if got < 6 {
            return Err(ReadError::NoHeader);
        }
        let version = u16::from_le_bytes([start[4], start[5]]);
        if version != FORMAT_VERSION {
            return Err(FormatError::UnsupportedVersion { found: version }.into());
        }
        let mut r = Self {
            src,
            header: Header {
                game: String::new(),
                game_version: 0,
                schema_hash: 0,
                config_json: String::new(),
                room: String::new(),
                seed: 0,
                tick_rate: 0,
                max_rewind_ms: 0,
                first_tick: tickwire_protocol::Tick(0),
                keyframe_interval: 0,
                server_version: String::new(),
                started_unix_ms: 0,
            },
            pending: VecDeque::new(),
            offset: 6,
            tail: None,
            frame: Vec::new(),
        };
        match r.read_frame()? {
            Frame::Whole { kind: KIND_HEADER, offset } => {
                let mut c = Cursor::new(&r.frame[1..]);
                r.header = decode_header(&mut c)
                    .map_err(|what| FormatError::Malformed { offset, what })?;
                Ok(r)
            }
            Frame::Whole { offset, .. } => Err(FormatError::HeaderPlacement { offset }.into()),
            Frame::Eof { .. } => Err(ReadError::NoHeader),
        }
    }

    /// The recording's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// How the records ended, once [`next_record`](Self::next_record) has returned `None`.
    pub fn tail(&self) -> Option<&Tail> {
        self.tail.as_ref()
    }

    /// The next record, or `None` after the end record or the last whole frame.
    pub fn next_record(&mut self) -> Result<Option<Record>, ReadError> {
        loop {
            if let Some(t) = self.pending.pop_front() {
                return Ok(Some(Record::Tick(t)));
            }
            if self.tail.is_some() {
                return Ok(None);
            }
            let offset = match self.read_frame()? {
                Frame::Eof { partial } => {
                    self.tail =
                        Some(Tail::Truncated { whole_bytes: self.offset, partial_bytes: partial });
                    return Ok(None);
                }
                Frame::Whole { offset, .. } => offset,
            };
            let bad = |what| FormatError::Malformed { offset, what };
            let mut c = Cursor::new(&self.frame[1..]);
            match self.frame[0] {
                KIND_BLOCK => self.decode_block(offset)?,
                KIND_KEYFRAME => {
                    let k = decode_keyframe(&mut c).map_err(bad)?;
                    return Ok(Some(Record::Keyframe(k)));
                }
                KIND_END => {
                    let end = decode_end(&mut c).map_err(bad)?;
                    self.tail = Some(Tail::Ended(end.clone()));
                    return Ok(Some(Record::End(end)));
                }
                KIND_HEADER => return Err(FormatError::HeaderPlacement { offset }.into()),
                kind => return Err(FormatError::UnknownKind { offset, kind }.into()),
            }
        }
    }

    fn decode_block(&mut self, offset: u64) -> Result<(), ReadError> {
        let bad = |what| FormatError::Malformed { offset, what };
        let mut c = Cursor::new(&self.frame[1..]);
        let codec = c.u8().map_err(bad)?;
        let first = c.var_u32().map_err(bad)?;
        let count = c.var().map_err(bad)?;
        let raw_len = c.var().map_err(bad)?;
        if raw_len > MAX_BLOCK_RAW_BYTES as u64 || count > raw_len {
            return Err(bad("block sizes out of bounds").into());
        }
        let data = c.rest();
        let raw = match codec {
            CODEC_NONE => std::borrow::Cow::Borrowed(data),
            CODEC_ZSTD => {
                let out = zstd::bulk::decompress(data, raw_len as usize)
                    .map_err(|_| FormatError::Decompress { offset })?;
                std::borrow::Cow::Owned(out)
            }
            _ => return Err(bad("unknown block codec").into()),
        };
        if raw.len() as u64 != raw_len {
            return Err(FormatError::Decompress { offset }.into());
        }
        let mut c = Cursor::new(&raw);
        for i in 0..count {
            let t = decode_tick(&mut c).map_err(bad)?;
            if i == 0 && t.tick.0 != first {
                return Err(bad("block's first tick does not match its header").into());
            }
            self.pending.push_back(t);
        }
        if !c.is_empty() {
            return Err(bad("trailing bytes after the block's records").into());
        }
        Ok(())
    }

    /// Reads the next frame into `self.frame` (kind byte first) and checks its CRC.
    fn read_frame(&mut self) -> Result<Frame, ReadError> {
        let offset = self.offset;
        let mut head = [0u8; 8];
        let got = read_full(&mut self.src, &mut head)?;
        if got < head.len() {
            return Ok(Frame::Eof { partial: got as u64 });
        }
        let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        if len == 0 || len > MAX_FRAME_BYTES {
            return Err(FormatError::FrameLength { offset, len: len as u64 }.into());
        }
        self.frame.clear();
        // Bounded by MAX_FRAME_BYTES, and read through `take` so that a short file allocates
        // only what it holds.
        let got = (&mut self.src).take(len as u64).read_to_end(&mut self.frame)?;
        if got < len {
            return Ok(Frame::Eof { partial: (head.len() + got) as u64 });
        }
        if crc32fast::hash(&self.frame) != crc {
            return Err(FormatError::Crc { offset }.into());
        }
        self.offset += (head.len() + len) as u64;
        Ok(Frame::Whole { kind: self.frame[0], offset })
    }
}

impl<R: Read> Iterator for Reader<R> {
    type Item = Result<Record, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

/// Fills `buf` as far as the input goes; the number of bytes read.
fn read_full(src: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match src.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// A whole recording in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// Its header.
    pub header: Header,
    /// Every record, in file order (the end record included, if any).
    pub records: Vec<Record>,
    /// How it ended.
    pub tail: Tail,
}

/// Reads a whole recording from bytes.
pub fn read_all(bytes: &[u8]) -> Result<Recording, ReadError> {
    let mut r = Reader::new(bytes)?;
    let mut records = Vec::new();
    while let Some(rec) = r.next_record()? {
        records.push(rec);
    }
    // invariant: `next_record` returned None, so the tail is set; the fallback is never used.
    let tail = r.tail.take().unwrap_or(Tail::Truncated { whole_bytes: r.offset, partial_bytes: 0 });
    Ok(Recording { header: r.header, records, tail })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tickwire_protocol::Tick;

    use super::*;
    use crate::format::{EndReason, Keyframe};
    use crate::writer::{Compression, Writer, WriterOptions};

    fn header() -> Header {
        Header {
            game: "arena".into(),
            game_version: 3,
            schema_hash: 0x0123_4567_89ab_cdef,
            config_json: r#"{"npcs":{"count":5}}"#.into(),
            room: "lobby".into(),
            seed: 42,
            tick_rate: 30,
            max_rewind_ms: 250,
            first_tick: Tick(0),
            keyframe_interval: 10,
            server_version: "0.1.0".into(),
            started_unix_ms: 1_700_000_000_000,
        }
    }

    /// A recording of `ticks` ticks with a keyframe every 10, and its records.
    fn recording(ticks: u32, compression: Compression) -> (Vec<u8>, Vec<Record>) {
        let options = WriterOptions { compression, block_ticks: 8, ..WriterOptions::default() };
        let mut w = Writer::new(Vec::new(), &header(), options).expect("writes to a Vec");
        let mut records = Vec::new();
        for t in 1..=ticks {
            let mut r = crate::format::tests::sample_tick(t);
            r.checksum = u64::from(t) * 0x9e37_79b9;
            w.tick(&r).expect("tick");
            records.push(Record::Tick(r));
            if t % 10 == 0 {
                let k = Keyframe { tick: Tick(t), payload: vec![t as u8; 40] };
                w.keyframe(&k).expect("keyframe");
                records.push(Record::Keyframe(k));
            }
        }
        let end = End { reason: EndReason::RoomClosed, tick: Tick(ticks), actions: vec![] };
        records.push(Record::End(end.clone()));
        (w.finish(&end).expect("finish"), records)
    }

    #[test]
    fn a_recording_reads_back_whole() {
        for compression in [Compression::None, Compression::Zstd(3)] {
            let (bytes, records) = recording(45, compression);
            let rec = read_all(&bytes).expect("reads");
            assert_eq!(rec.header, header());
            assert_eq!(rec.records, records);
            assert!(matches!(rec.tail, Tail::Ended(End { reason: EndReason::RoomClosed, .. })));
        }
        let (raw, _) = recording(45, Compression::None);
        let (packed, _) = recording(45, Compression::Zstd(3));
        assert!(packed.len() < raw.len() / 2, "zstd {} vs raw {}", packed.len(), raw.len());
    }

    /// Cut at every byte of the last frames: every cut reads back a prefix of the records,
    /// as many as its whole frames hold, and says it was truncated.
    #[test]
    fn a_file_cut_anywhere_reads_up_to_its_last_whole_frame() {
        let (bytes, records) = recording(45, Compression::Zstd(3));
        let header_len = {
            let r = Reader::new(bytes.as_slice()).expect("reads");
            r.offset as usize
        };
        let mut last_count = usize::MAX;
        for cut in (header_len..bytes.len()).rev() {
            let rec = read_all(&bytes[..cut]).expect("a cut file reads");
            let n = rec.records.len();
            assert!(n <= last_count, "records only shrink as the cut moves back");
            last_count = n;
            assert_eq!(rec.records[..], records[..n], "cut at {cut}");
            match rec.tail {
                Tail::Truncated { whole_bytes, partial_bytes } => {
                    assert_eq!(whole_bytes + partial_bytes, cut as u64, "cut at {cut}");
                }
                Tail::Ended(_) => panic!("cut at {cut} read as ended"),
            }
        }
        assert_eq!(last_count, 0, "a file cut after its header holds no record");
        // Cuts inside the header: no header.
        for cut in 0..header_len {
            assert!(read_all(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn a_flipped_bit_is_a_crc_error_not_a_cut() {
        let (mut bytes, _) = recording(20, Compression::Zstd(3));
        let at = bytes.len() - 3;
        bytes[at] ^= 0x10;
        assert!(matches!(read_all(&bytes), Err(ReadError::Format(FormatError::Crc { .. }))));
    }

    #[test]
    fn bad_starts_are_typed_errors() {
        assert!(matches!(read_all(b"XXXX\x01\x00"), Err(ReadError::Format(FormatError::BadMagic))));
        assert!(matches!(
            read_all(b"TWRC\x09\x00"),
            Err(ReadError::Format(FormatError::UnsupportedVersion { found: 9 }))
        ));
        assert!(matches!(read_all(b"TWRC\x01\x00"), Err(ReadError::NoHeader)));
        // A frame claiming 2 GiB is refused before anything is allocated.
        let mut huge = b"TWRC\x01\x00".to_vec();
        huge.extend_from_slice(&0x8000_0000u32.to_le_bytes());
        huge.extend_from_slice(&[0; 8]);
        assert!(matches!(read_all(&huge), Err(ReadError::Format(FormatError::FrameLength { .. }))));
    }

    /// A frame with a valid CRC around `body` (what a forger can always make).
    fn framed(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(&((body.len() + 1) as u32).to_le_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(&[kind]);
        crc.update(body);
        f.extend_from_slice(&crc.finalize().to_le_bytes());
        f.push(kind);
        f.extend_from_slice(body);
        f
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Random bytes after a valid start never panic, whatever they claim.
        #[test]
        fn random_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..512)) {
            let mut bytes = b"TWRC\x01\x00".to_vec();
            bytes.extend_from_slice(&tail);
            let _ = read_all(&bytes);
        }

        /// Random frame bodies with valid CRCs (a forged file) decode to typed errors or
        /// records, never a panic or an unbounded allocation.
        #[test]
        fn forged_frames_never_panic(
            kind in 1u8..=5,
            body in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            let (valid, _) = recording(3, Compression::None);
            let header_end = Reader::new(valid.as_slice()).map(|r| r.offset as usize).unwrap_or(6);
            let mut bytes = valid[..header_end].to_vec();
            bytes.extend_from_slice(&framed(kind, &body));
            let _ = read_all(&bytes);
            // And as a header.
            let mut bytes = b"TWRC\x01\x00".to_vec();
            bytes.extend_from_slice(&framed(kind, &body));
            let _ = read_all(&bytes);
        }

        /// Records round-trip through the writer and the reader.
        #[test]
        fn records_round_trip(ticks in 1u32..40, block_ticks in 1u32..10) {
            let options = WriterOptions { block_ticks, ..WriterOptions::default() };
            let mut w = Writer::new(Vec::new(), &header(), options).expect("writer");
            let mut want = Vec::new();
            for t in 1..=ticks {
                let r = crate::format::tests::sample_tick(t);
                w.tick(&r).expect("tick");
                want.push(Record::Tick(r));
            }
            w.flush().expect("flush");
            let bytes = w.get_ref().clone();
            let rec = read_all(&bytes).expect("reads");
            prop_assert_eq!(rec.records, want);
            let truncated = matches!(rec.tail, Tail::Truncated { partial_bytes: 0, .. });
            prop_assert!(truncated);
        }
    }
}
