"""Reading an OpenAI-compatible vision answer, and the converter's refusal of unknown graphs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import Unavailable
from core.estimator.tfjs_to_onnx import UnsupportedGraph, convert
from core.estimator.vision import parse_openai_answer


def answer(content: object) -> dict:
    return {"choices": [{"message": {"role": "assistant", "content": content}}]}


def test_boxes_are_scaled_clamped_and_filtered() -> None:
    content = json.dumps({"items": [
        {"label": "chair", "confidence": 0.8, "box": [0.5, 0.5, -0.2, 1.4]},  # reversed, out of range
        {"label": "chair", "confidence": 0.7, "box": [0.1, 0.1, 0.1, 0.3]},  # no width: dropped
        {"label": "couch", "confidence": "high", "box": [0, 0, 1, 1]},  # not a number: dropped
        {"label": "tv", "confidence": 0.9, "box": [0.1, 0.2, 0.3, 0.4]},
    ]})
    found = parse_openai_answer(answer(content), (1000, 500))
    assert [d.label for d in found] == ["tv", "chair"]
    assert found[1].box == (0.0, 250.0, 500.0, 500.0)
    assert found[0].box == pytest.approx((100, 100, 300, 200))


@pytest.mark.parametrize("payload", [{}, answer("not json"), answer(json.dumps({"things": []})), {"choices": []}])
def test_an_answer_off_the_schema_is_unavailable(payload: dict) -> None:
    with pytest.raises(Unavailable):
        parse_openai_answer(payload, (10, 10))


def test_the_converter_refuses_operations_it_does_not_translate(tmp_path: Path) -> None:
    graph = {
        "modelTopology": {"node": [
            {"name": "x", "op": "Placeholder", "attr": {"shape": {"shape": {"dim": [{"size": "1"}, {"size": "4"}]}}}},
            {"name": "y", "op": "Erf", "input": ["x"], "attr": {}},
        ]},
        "weightsManifest": [{"paths": [], "weights": []}],
        "signature": {"outputs": {"y:0": {"name": "y:0"}}},
    }
    (tmp_path / "model.json").write_text(json.dumps(graph))
    with pytest.raises(UnsupportedGraph, match="Erf"):
        convert(tmp_path / "model.json", tmp_path / "out.onnx")
