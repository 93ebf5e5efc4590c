//! Property tests for the flight decoder: it never panics, whatever the
//! bytes and however they are chunked, and chunking never changes what a
//! valid flight decodes to. The per-message readers never panic either.

use proptest::prelude::*;
use tlsposture::wire::{
    FlightDecoder, ServerHello, ServerKeyExchange, ServerMessage, Sslv2ServerHello, WireError,
};

/// Feeds `bytes` in pieces cut at `cuts` (positions, any order, any range),
/// draining messages after every piece, as a probe reading a socket does.
fn decode_chunked(bytes: &[u8], cuts: &[usize]) -> (Vec<ServerMessage>, Option<WireError>) {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.push(0);
    points.push(bytes.len());
    points.sort_unstable();
    let mut d = FlightDecoder::new();
    let mut out = Vec::new();
    for w in points.windows(2) {
        d.feed(&bytes[w[0]..w[1]]);
        loop {
            match d.next_message() {
                Ok(Some(m)) => out.push(m),
                Ok(None) => break,
                Err(e) => return (out, Some(e)),
            }
        }
    }
    (out, None)
}

fn record(typ: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![typ, 3, 3];
    r.extend((body.len() as u16).to_be_bytes());
    r.extend(body);
    r
}

/// One step of a well-formed flight: a handshake message whose body the
/// decoder keeps raw (so any body is valid), or a whole alert.
#[derive(Debug, Clone)]
enum Piece {
    Handshake { typ: u8, body: Vec<u8> },
    Alert(u8, u8),
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        (
            prop::sample::select(vec![4u8, 8, 12, 13, 15, 20, 22, 24]),
            prop::collection::vec(any::<u8>(), 0..600)
        )
            .prop_map(|(typ, body)| Piece::Handshake { typ, body }),
        (1u8..=2, any::<u8>()).prop_map(|(l, d)| Piece::Alert(l, d)),
    ]
}

/// Encodes pieces as records; runs of handshake messages are re-split into
/// records of `frag` bytes so messages span and share records.
fn flight(pieces: &[Piece], frag: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut pending = Vec::new();
    let flush = |pending: &mut Vec<u8>, out: &mut Vec<u8>| {
        for chunk in pending.chunks(frag) {
            out.extend(record(22, chunk));
        }
        pending.clear();
    };
    for p in pieces {
        match p {
            Piece::Handshake { typ, body } => {
                pending.push(*typ);
                pending.extend(&(body.len() as u32).to_be_bytes()[1..]);
                pending.extend(body);
            }
            Piece::Alert(level, desc) => {
                flush(&mut pending, &mut out);
                out.extend(record(21, &[*level, *desc]));
            }
        }
    }
    flush(&mut pending, &mut out);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_on_arbitrary_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let _ = decode_chunked(&bytes, &cuts);
    }

    #[test]
    fn never_panics_on_record_shaped_bytes(
        records in prop::collection::vec(
            (20u8..=24, prop::collection::vec(any::<u8>(), 0..300)), 0..6),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let bytes: Vec<u8> = records.iter().flat_map(|(t, b)| record(*t, b)).collect();
        let _ = decode_chunked(&bytes, &cuts);
    }

    #[test]
    fn chunking_does_not_change_a_valid_flight(
        pieces in prop::collection::vec(piece(), 1..8),
        frag in 1usize..2000,
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let bytes = flight(&pieces, frag);
        let (whole, err) = FlightDecoder::decode_all(&bytes);
        prop_assert_eq!(err, None);
        prop_assert_eq!(whole.len(), pieces.len());
        prop_assert_eq!(decode_chunked(&bytes, &cuts), (whole, None));
    }

    #[test]
    fn message_readers_never_panic(body in prop::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(sh) = ServerHello::decode(&body) {
            let _ = (sh.negotiated_version(), sh.key_share_group(), sh.alpn());
            let _ = (sh.downgrade_sentinel(), sh.is_hello_retry_request());
        }
        let ske = ServerKeyExchange { body: body.clone() };
        let _ = (ske.as_ecdhe(), ske.as_dhe(true), ske.as_dhe(false));
        let _ = Sslv2ServerHello::decode(&body);
    }
}
