"""What a schema cannot say about the APIs, for Schemathesis (see `run`).

A schema says which requests are well formed. Two kinds of rules escape it:

- Rules on what the service gave out or holds: a cursor only continues the
  listing that gave it out, an Idempotency-Key is the user's for 24 hours, a
  reply's parent must be a thread of the same project. Requests generated to
  be valid are kept clear of them (`map_case`), as they are of the values
  Schemathesis draws wrongly (see `q` there). A project holds at most 10
  tags, whatever a tag change adds: that refusal is dropped
  (`filter_failure`).
- Rules on text as the service reads it: it normalises text before it counts
  it (NFC or NFKC, whitespace collapsed and trimmed, tags lower-cased and
  de-duplicated, search words de-duplicated), while a schema's lengths and item
  counts apply to the text as sent. A failure that the normalisation explains
  is dropped (`filter_failure`; the summary counts them), and only then.

Everything else is sent and judged as generated.
"""

import re
import unicodedata
import uuid
from functools import cache

import jsonschema_rs
import schemathesis

# Unicode White_Space: what the service collapses and trims.
WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
RUNS = re.compile(f"[{re.escape(WHITE_SPACE)}]+")
# A search word: a run of letters and digits, matched on its first 24 characters.
WORD = re.compile(r"[^\W_]+")


@schemathesis.hook
def map_case(ctx, case):
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return case
    # Generated cases may share their containers: replace them, never edit them.
    # A cursor only continues the listing that gave it out: there is no valid
    # cursor to draw.
    if isinstance(case.query, dict) and "cursor" in case.query:
        case.query = {k: v for k, v in case.query.items() if k != "cursor"}
    # The same Idempotency-Key for another request is 422: every valid request
    # gets a key of its own.
    key = case.headers.get("Idempotency-Key") if case.headers else None
    if isinstance(key, str):
        case.headers = case.headers.copy()
        case.headers["Idempotency-Key"] = f"{key[:200]}-{uuid.uuid4().hex}"
    # A reply's parent must be a thread of the same project.
    if isinstance(case.body, dict) and "parent_thread_id" in case.body:
        case.body = {k: v for k, v in case.body.items() if k != "parent_thread_id"}
    # Schemathesis draws `\p{L}` (in the pattern of `q`) as Latin letters
    # only, so that what it draws as one word can be several: a `q` that the
    # document does not allow is left out.
    if isinstance(case.query, dict) and "q" in case.query:
        allowed = parameter_validator(case.operation, "q")
        if allowed is not None and not allowed.is_valid(case.query["q"]):
            case.query = {k: v for k, v in case.query.items() if k != "q"}
    return case


@cache
def _validators(operation):
    return {p.name: jsonschema_rs.validator_for(p.definition["schema"]) for p in operation.query}


def parameter_validator(operation, name):
    """The document's own reading of a query parameter, by a real validator."""
    return _validators(operation).get(name)


def line(text, form):
    return RUNS.sub(" ", unicodedata.normalize(form, text)).strip(WHITE_SPACE)


def tag(text):
    return line(line(text, "NFKC").lower(), "NFKC")


def message(text):
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return text.strip(WHITE_SPACE)


def search(text):
    return [word.lower()[:24] for word in WORD.findall(text)]


# How the service reads each field or parameter; lists are de-duplicated.
READ_AS = {
    "project_name": lambda t: line(t, "NFKC"),
    "tagline": lambda t: line(t, "NFC"),
    "message": message,
    "problems": message,
    "solutions": message,
    "reason": lambda t: t.strip(WHITE_SPACE),
    "tags": tag,
    "add": tag,
    "remove": tag,
    "tag": tag,
}
DE_DUPLICATED = {"tags", "add", "remove", "tag"}


def texts(case):
    """(name, texts as sent, texts as read) for every text field and parameter."""
    fields = {}
    for container in (case.body, case.query):
        if isinstance(container, dict):
            fields.update(container)
    for name, value in fields.items():
        values = [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]
        if name == "q":
            words = [word for v in values for word in search(v)]
            yield name, words, list(dict.fromkeys(words))
        elif name in READ_AS:
            read = [READ_AS[name](v) for v in values]
            if name in DE_DUPLICATED:
                read = list(dict.fromkeys(read))
            yield name, values, read


@schemathesis.hook
def filter_failure(ctx, failure, case, response):
    if failure.code == "ST201":
        # Invalid as sent, yet accepted: dropped when the service reads some
        # text shorter than sent, or a list with fewer items or words.
        return not any(
            len(read) < len(sent) or any(len(r) < len(s) for s, r in zip(sent, read))
            for _, sent, read in texts(case)
        )
    if failure.code == "ST202" and response.status_code == 422:
        # Valid as sent, yet refused: dropped when every refused field is one
        # the service reads longer than sent (NFKC and lower-casing expand a
        # few characters).
        grown = {
            name
            for name, sent, read in texts(case)
            if any(len(r) > len(s) for s, r in zip(sent, read))
        }
        try:
            errors = response.json().get("errors") or []
        except ValueError:
            return True
        if not errors:
            return True
        refused = {
            e["field"].split("[")[0]
            for e in errors
            # What the project already holds, not the request: too many tags.
            if not (e["field"] == "add" and e["message"].startswith("a project has at most"))
        }
        return bool(refused) and not refused <= grown
    return True
