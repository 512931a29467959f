import io
import json

from moderation.cli import run_eval, run_screen


class _Bytes(io.BytesIO):
    """stdin as the process sees it: text on top of a byte buffer."""

    @property
    def buffer(self):
        return self


def _screen_lines(lines: list[bytes], pipeline) -> list[dict]:
    out = io.StringIO()
    assert run_screen(["--jsonl", "-"], _Bytes(b"".join(lines)), out, pipeline=pipeline) == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_jsonl_keeps_order_ids_and_contract(pipeline) -> None:
    lines = [json.dumps({"id": i, "text": t}).encode() + b"\n"
             for i, t in enumerate(["hello", "I want to die", "mail a@example.com"])]
    results = _screen_lines(lines, pipeline)
    assert [r["id"] for r in results] == [0, 1, 2]
    assert set(results[0]) == {"id", "action", "categories", "severity", "spans", "reasons"}
    assert results[1]["categories"] == ["crisis.self"] and results[1]["action"] == "flag"
    assert results[2]["action"] == "remove"


def test_malformed_lines_get_error_objects_in_place(pipeline) -> None:
    lines = [
        b'{"id": "a", "text": "fine"}\n',
        b"not json\n",
        b'{"id": "b"}\n',
        b'{"id": "c", "text": 5}\n',
        b'{"id": "d", "text": "caf\xe9"}\n',
        b"[1, 2]\n",
        b'{"id": "e", "text": "ok", "locale": "en-GB"}\n',
    ]
    results = _screen_lines(lines, pipeline)
    assert len(results) == 7
    assert "error" not in results[0] and "error" not in results[6]
    assert [("error" in r) for r in results[1:6]] == [True] * 5
    assert results[2]["id"] == "b" and results[3]["id"] == "c"
    assert "UTF-8" in results[4]["error"]


def test_file_input_and_missing_file(tmp_path, pipeline) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": 1, "text": "hola"}\n', encoding="utf-8")
    out = io.StringIO()
    assert run_screen(["--jsonl", str(path)], io.StringIO(), out, pipeline=pipeline) == 0
    assert json.loads(out.getvalue())["id"] == 1
    assert run_screen(["--jsonl", str(tmp_path / "nope")], io.StringIO(), io.StringIO(), pipeline=pipeline) == 1


def test_explain_speaks_plainly(pipeline) -> None:
    out = io.StringIO()
    assert run_screen(["I want to die"], io.StringIO(), out, pipeline=pipeline) == 0
    assert "Flagged" in out.getvalue() and "crisis lines" in out.getvalue()


def test_usage_errors_do_not_exit(pipeline) -> None:
    out = io.StringIO()
    assert run_screen([], io.StringIO(), out, pipeline=pipeline) == 2
    assert "usage" in out.getvalue()


def test_eval_leaves_out_ambiguous_lines(tmp_path, pipeline) -> None:
    path = tmp_path / "e.jsonl"
    rows = [{"text": "I want to die", "labels": ["crisis.self"]},
            {"text": "hello", "labels": []},
            {"text": "nice day", "labels": ["crisis.self"], "ambiguous": True}]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    out = io.StringIO()
    assert run_eval([str(path)], out, pipeline=pipeline) == 0
    row = next(line for line in out.getvalue().splitlines() if " crisis.self " in line)
    assert row.split()[2:6] == ["2", "1", "1.000", "1.000"]
