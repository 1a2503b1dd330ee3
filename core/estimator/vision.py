"""Vision providers: what is in a photo, as labelled boxes.

`VisionProvider` is the interface; two implementations:
- `NanoDetProvider` (offline default): the NanoDet COCO detector that `make install` converts to
  ONNX (core/estimator/detector_setup.py), run on the CPU with onnxruntime. Nothing is downloaded
  at run time; a missing model is a 503 that says to run the set-up.
- `OpenAIVisionProvider`: any OpenAI-compatible chat endpoint that takes images, asked for a
  JSON-schema answer (`KARIZ_VISION_URL`, `KARIZ_VISION_MODEL`, `KARIZ_VISION_API_KEY`).
"""

from __future__ import annotations

import base64
import io
import json
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from core.errors import Unavailable

COCO_LABELS = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard",
    "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase",
    "scissors", "teddy bear", "hair drier", "toothbrush",
)


@dataclass(frozen=True)
class Detection:
    """One thing seen: its label, the provider's confidence (0-1) and its box in the pixels of the
    image as given to the provider (x0, y0, x1, y1)."""

    label: str
    confidence: float
    box: tuple[float, float, float, float]


class VisionProvider(ABC):
    """Finds things in one RGB image."""

    name: str = "vision"

    @abstractmethod
    def detect(self, image: Image.Image) -> list[Detection]:
        """Every detection in `image` above the provider's threshold, best first (blocking: call it
        from a worker thread)."""


def _nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    order = list(np.argsort(-scores))
    keep: list[int] = []
    while order:
        i = order.pop(0)
        keep.append(int(i))
        if not order:
            break
        rest = np.array(order)
        xx0 = np.maximum(boxes[i, 0], boxes[rest, 0])
        yy0 = np.maximum(boxes[i, 1], boxes[rest, 1])
        xx1 = np.minimum(boxes[i, 2], boxes[rest, 2])
        yy1 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.clip(xx1 - xx0, 0, None) * np.clip(yy1 - yy0, 0, None)
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        overlap = inter / (area[i] + area[rest] - inter + 1e-9)
        order = [o for o, v in zip(order, overlap, strict=True) if v <= iou]
    return keep


class NanoDetProvider(VisionProvider):
    """NanoDet (416x416, COCO) in onnxruntime on the CPU.

    The model was trained on BGR input normalised by ImageNet-style means and deviations and
    predicts, per cell of three strides (8, 16, 32), 80 class scores and a distribution over 11 bins
    for each box side (generalised focal loss); boxes are the distributions' expectations times the
    stride, measured from the cell's corner.
    """

    name = "nanodet"
    SIZE = 416
    STRIDES = ((8, "Identity", "Identity_3"), (16, "Identity_1", "Identity_4"), (32, "Identity_2", "Identity_5"))
    MEAN = np.array([103.53, 116.28, 123.675], dtype=np.float32)
    STD = np.array([57.375, 57.12, 58.395], dtype=np.float32)
    REG_BINS = 11

    def __init__(self, model_path: Path, *, threshold: float = 0.35, iou: float = 0.5, threads: int = 2,
                 max_detections: int = 50) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        self._outputs = [o.name for o in self._session.get_outputs()]
        self.threshold = threshold
        self.iou = iou
        self.max_detections = max_detections

    def preprocess(self, image: Image.Image) -> np.ndarray:
        """The model's input tensor (1, 3, 416, 416) for `image`."""
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        resized = np.asarray(rgb.resize((self.SIZE, self.SIZE), Image.Resampling.BILINEAR), dtype=np.float32)
        x = (resized[..., ::-1] - self.MEAN) / self.STD
        return np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)

    def detect(self, image: Image.Image) -> list[Detection]:
        width, height = image.size
        out = dict(zip(self._outputs, self._session.run(None, {self._input: self.preprocess(image)}), strict=True))
        boxes, scores, classes = [], [], []
        bins = np.arange(self.REG_BINS, dtype=np.float32)
        for stride, cls_name, reg_name in self.STRIDES:
            cls = out[cls_name][0]
            best = cls.max(axis=1)
            cells = np.nonzero(best > self.threshold)[0]
            if cells.size == 0:
                continue
            reg = out[reg_name][0][cells].reshape(-1, 4, self.REG_BINS)
            prob = np.exp(reg - reg.max(axis=2, keepdims=True))
            prob /= prob.sum(axis=2, keepdims=True)
            dist = (prob * bins).sum(axis=2) * stride
            n = self.SIZE // stride
            cy, cx = np.divmod(cells, n)
            cx, cy = cx * stride, cy * stride
            boxes.append(np.stack([cx - dist[:, 0], cy - dist[:, 1], cx + dist[:, 2], cy + dist[:, 3]], axis=1))
            scores.append(best[cells])
            classes.append(cls[cells].argmax(axis=1))
        if not boxes:
            return []
        all_boxes = np.concatenate(boxes)
        all_scores = np.concatenate(scores)
        all_classes = np.concatenate(classes)
        sx, sy = width / self.SIZE, height / self.SIZE
        found: list[Detection] = []
        for c in np.unique(all_classes):
            idx = np.nonzero(all_classes == c)[0]
            for k in _nms(all_boxes[idx], all_scores[idx], self.iou):
                x0, y0, x1, y1 = all_boxes[idx[k]]
                found.append(Detection(
                    label=COCO_LABELS[int(c)],
                    confidence=round(float(all_scores[idx[k]]), 3),
                    box=(max(0.0, float(x0) * sx), max(0.0, float(y0) * sy),
                         min(float(width), float(x1) * sx), min(float(height), float(y1) * sy)),
                ))
        found.sort(key=lambda d: -d.confidence)
        return found[: self.max_detections]


VISION_SCHEMA: dict[str, Any] = {
    "name": "detections",
    "strict": True,
    "schema": {
        "type": "object",
        "additionalProperties": False,
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["label", "confidence", "box"],
            "properties": {
                "label": {"type": "string", "enum": list(COCO_LABELS)},
                "confidence": {"type": "number"},
                "box": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4,
                        "description": "x0, y0, x1, y1 as fractions (0-1) of the image width and height"},
            },
        }}},
    },
}

VISION_PROMPT = (
    "List every household item, piece of furniture and appliance visible in the photo, one entry per "
    "physical object, with a tight bounding box as fractions of the image size and your confidence (0-1). "
    "Use only the allowed labels."
)


class OpenAIVisionProvider(VisionProvider):
    """An OpenAI-compatible `/chat/completions` endpoint that accepts image parts and a
    `json_schema` response format. An unreachable, silent (`timeout`), failing or off-schema endpoint
    is `Unavailable` (503) with the reason."""

    name = "openai"

    def __init__(self, url: str, model: str, api_key: str | None = None, *, timeout: float = 60.0,
                 threshold: float = 0.3, max_tokens: int = 2048) -> None:
        import httpx

        base = url.rstrip("/")
        self._endpoint = base if base.endswith("/chat/completions") else f"{base}/chat/completions"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(timeout=timeout, headers=headers)
        self.model = model
        self.threshold = threshold
        self.max_tokens = max_tokens  # ~40 tokens an item; an answer cut short is off-schema (503)

    def request_body(self, image: Image.Image) -> dict[str, Any]:
        """The chat-completions request for `image`: the prompt, the photo as a JPEG data URL, and
        the answer's JSON schema."""
        buf = io.BytesIO()
        image.convert("RGB").save(buf, format="JPEG", quality=88)
        data_url = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()
        return {
            "model": self.model,
            "temperature": 0,
            "max_tokens": self.max_tokens,
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": VISION_PROMPT},
                {"type": "image_url", "image_url": {"url": data_url}},
            ]}],
            "response_format": {"type": "json_schema", "json_schema": VISION_SCHEMA},
        }

    def complete(self, body: dict[str, Any], size: tuple[int, int]) -> list[Detection]:
        """Send `body` and read the answer as detections in an image of `size` pixels."""
        import httpx

        try:
            response = self._http.post(self._endpoint, json=body)
        except httpx.HTTPError as exc:
            raise Unavailable(f"the vision model cannot be reached ({type(exc).__name__})") from None
        if response.status_code >= 400:
            raise Unavailable(f"the vision model answered {response.status_code}")
        try:
            payload = response.json()
        except ValueError:
            raise Unavailable("the vision model's answer is not JSON") from None
        return parse_openai_answer(payload, size, self.threshold)

    def detect(self, image: Image.Image) -> list[Detection]:
        return self.complete(self.request_body(image), image.size)

    def close(self) -> None:
        self._http.close()


def parse_openai_answer(payload: dict[str, Any], size: tuple[int, int], threshold: float = 0.3) -> list[Detection]:
    """Detections from a chat-completions answer whose message content is the schema's JSON.
    Unknown labels, malformed boxes and low confidences are dropped; an answer that is not JSON at
    all is a 503 (the model did not follow the schema)."""
    try:
        content = payload["choices"][0]["message"]["content"]
        parsed = json.loads(content) if isinstance(content, str) else content
        items = parsed["items"]
    except (KeyError, IndexError, TypeError, ValueError):
        raise Unavailable("the vision model's answer did not follow the JSON schema") from None
    width, height = size
    found = []
    for item in items if isinstance(items, list) else []:
        try:
            label = str(item["label"])
            confidence = float(item["confidence"])
            x0, y0, x1, y1 = (float(v) for v in item["box"])
        except (KeyError, TypeError, ValueError):
            continue
        if label not in COCO_LABELS or confidence < threshold:
            continue
        x0, x1 = sorted((min(max(x0, 0.0), 1.0), min(max(x1, 0.0), 1.0)))
        y0, y1 = sorted((min(max(y0, 0.0), 1.0), min(max(y1, 0.0), 1.0)))
        if x1 - x0 <= 0 or y1 - y0 <= 0:
            continue
        found.append(Detection(label, round(min(confidence, 1.0), 3), (x0 * width, y0 * height, x1 * width, y1 * height)))
    found.sort(key=lambda d: -d.confidence)
    return found


_PROVIDER_LOCK = threading.Lock()
_PROVIDERS: dict[tuple[Any, ...], VisionProvider] = {}


def get_vision_provider(settings: Any) -> VisionProvider:
    """The configured provider (one per process and configuration): `openai` when
    `KARIZ_VISION_PROVIDER=openai`, else the offline detector."""
    from core.estimator.detector_setup import DEFAULT_DIR, installed_model

    kind = getattr(settings, "vision_provider", "local")
    if kind == "openai":
        key = ("openai", settings.vision_url, settings.vision_model)
    else:
        model_dir = getattr(settings, "detector_dir", None) or DEFAULT_DIR
        key = ("local", str(model_dir))
    with _PROVIDER_LOCK:
        if key in _PROVIDERS:
            return _PROVIDERS[key]
        if kind == "openai":
            if not settings.vision_url or not settings.vision_model:
                raise Unavailable("KARIZ_VISION_URL and KARIZ_VISION_MODEL must be set for the openai vision provider")
            secret = settings.vision_api_key.get_secret_value() if settings.vision_api_key else None
            provider: VisionProvider = OpenAIVisionProvider(settings.vision_url, settings.vision_model, secret)
        else:
            path = installed_model(Path(model_dir))
            if path is None:
                raise Unavailable("the offline detector is not installed; run `make install` "
                                  "(python -m core.estimator.detector_setup)")
            provider = NanoDetProvider(path)
        _PROVIDERS[key] = provider
        return provider
