"""The README placed in every evidence bundle.

It is the specification a reviewer (or another implementation) needs, so it repeats the
chain and canonical-JSON definition of `store.native.canonical` in full, plus the bundle's file
formats and exactly what a successful check does and does not prove.
"""

from __future__ import annotations

_TEMPLATE = """\
# eventscope evidence bundle

Head digest of the store when this bundle was made: `{head}`
Links between selected events: `{links}`

## First check the checker

This bundle carries its own verifier, `verify_bundle.py`, so whoever could forge the
bundle could also forge the verifier (three lines that print OK). Before trusting what
it says, compare its SHA-256 with the one eventscope publishes (the eventscope README,
`eventscope --version --verbose`, the audit report):

    sha256sum verify_bundle.py      # must print {verifier_sha256}

or do not run this copy at all: use your own -- `eventscope verify-bundle case.zip` runs
the copy installed with eventscope, and the specification below lets you write one.

## Check it

With only Python 3.8+ (no other software, no network), in the unzipped folder:

    python3 -I verify_bundle.py
    python3 -I verify_bundle.py --head {head}            # the digest from the case file
    python3 -I verify_bundle.py --manifest-sha256 HEX   # the bundle digest from the case file

It prints `OK: ...` lines and exits 0, or one `FAILED: ...` line naming the altered
event or file and exits 1 (2 when the bundle cannot be read at all). It also accepts the
zip itself: `python3 -I verify_bundle.py case.zip`.

Keep the head digest (and the manifest SHA-256 that `eventscope bundle` prints) outside
the system -- in the case file, an e-mail to the case owner, a signed memo. A bundle can
only be trusted as far as the digest it is compared with: anyone can build an internally
consistent bundle, nobody can build one that ends in a digest recorded earlier without
the original events.

## Files

| file | content |
| --- | --- |
| `manifest.json` | tool and version, source, selection (streams or correlation id, time T), head digest, the store's own chain check, counts, creation time, and the SHA-256 of every other file |
| `events.jsonl` | the selected events in position order, one canonical JSON object a line: the envelope fields below plus `hash` (this event's chain link) and `prev_hash` (the link before it) |
| `chain.jsonl` | one line per position from the first selected event to the head: `{{"hash", "position", "selected": true}}` for a selected event; for any other event either `{{"envelope", "hash", "position"}}` (links `full`) or `{{"hash", "position"}}` (links `hashes`) |
| `states.json` | per selected stream: the state at T (`version`, `recorded_at`), how it was derived (`generic` fold or a domain aggregate's name), whether the bundle holds its complete history, whether the verifier can `recompute` it, and any events the derivation skipped |
| `verify_bundle.py` | the standalone verifier (standard library only) |

Every line of the two `.jsonl` files is exactly the canonical JSON of its value, so a
changed byte always changes a value or breaks the form.

## The hash chain

Events have a global `position` 1, 2, 3, ... with no gaps. Each event's link is

    hash_n = SHA-256( bytes(hash_(n-1)) || canonical(envelope_n) )

over raw bytes: the previous link as its 32 raw bytes (not hex), then the canonical
UTF-8 JSON of the event's envelope. `hash_0` is 32 zero bytes. Links are written as 64
lowercase hexadecimal characters. The head digest is `position:hash` of the last event.

The envelope is the JSON object with exactly these members:

| member | type |
| --- | --- |
| `data` | object: the event payload as stored |
| `event_id` | string (a UUID) |
| `event_type` | string |
| `metadata` | object (actor, correlation_id, causation_id, command, ...) |
| `occurred_at` | string: business time, `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, microseconds) |
| `position` | integer: global order |
| `recorded_at` | string: transaction time, same format |
| `schema_version` | integer: payload schema version as stored |
| `stream_id` | string |
| `stream_type` | string |
| `version` | integer: 1-based, contiguous per stream |

## Canonical JSON (RFC 8785, JCS)

* no whitespace outside strings;
* object members sorted by their keys compared as sequences of UTF-16 code units;
* strings: UTF-8; escape `"` as `\\"`, `\\` as `\\\\`, U+0008 `\\b`, U+0009 `\\t`,
  U+000A `\\n`, U+000C `\\f`, U+000D `\\r`, every other character below U+0020 as
  `\\u00xx` (lowercase hex); nothing else is escaped (not `/`, not non-ASCII, not U+007F);
* numbers in ECMAScript `Number.prototype.toString` form (`1`, `1.5`, `1e+21`, `1e-7`;
  no `+`, no leading zeros, no trailing `.0`); integers beyond 2^53 in magnitude, NaN and
  Infinity are not allowed (the store refuses them);
* `true`, `false`, `null` as such; lone surrogates are not allowed.

## What a successful check proves

1. each selected event is, byte for byte, the event that was hashed into the store's
   chain at its position (its content hashes to its link from the link before it);
2. links `full`: the chain recomputed from the first selected event through every later
   event ends exactly at the head digest -- so if the head digest matches the one kept
   outside, none of these events was altered, removed, inserted or reordered since that
   digest was taken. Links `hashes`: the positions not selected are given by hash only,
   so the tie from the selected events to the head digest is not proven offline; prove
   it on the store with `eventscope verify SOURCE --against {head}`;
3. no event of the chain's context belongs to the selection (a selected event moved out
   of `events.jsonl` fails the check);
4. for every stream whose history up to T is complete in the bundle and whose state is
   derived by the generic fold, the state in `states.json` is what the events fold to --
   whatever `states.json` says about recomputing it; every state that cannot be
   recomputed is listed with the reason.
   Generic fold: start from `{{}}`; merge each event's `data` in version order; a member
   whose value is `null` removes the key; an object merges recursively (into `{{}}` when
   the old value was not an object); any other value, lists included, replaces.
   A state with `applied_versions` is *as of business time* `as_of`, *as known at*
   `known_at` (null: every event of the stream in the bundle): it folds the events with
   `recorded_at <= known_at` and `occurred_at <= as_of`, sorted by (`occurred_at`,
   `version`), and the verifier checks that `applied_versions` is exactly that list;
   States derived by domain code (an aggregate) cannot be recomputed without that code;
   they are protected by `manifest.json`'s file digests (and the manifest by the SHA-256
   kept in the case file: without `--manifest-sha256` the verifier says so in a NOTE);
5. every file has the SHA-256 recorded in `manifest.json`.
"""


def bundle_readme(*, head: str, links: str, verifier_sha256: str) -> str:
    """The README text for a bundle with this head digest, links mode and verifier."""
    return _TEMPLATE.format(head=head, links=links, verifier_sha256=verifier_sha256)
