"""The interactive API docs' JavaScript, CSS and icon, served by Kariz itself.

They come from the `swagger-ui-py` package installed with Kariz (its `static/` folder: Swagger UI 5,
which reads OpenAPI 3.1; the older `swagger-ui-bundle` ships 4.x, which cannot), so `/api/v1/docs` works with no
network (no CDN). Public, like the docs page, and left out of the OpenAPI document.
"""

from __future__ import annotations

from pathlib import Path

import swagger_ui
from litestar.static_files import create_static_files_router

ASSETS_PATH = "/docs/assets"  # under /api/v1
ASSETS_DIR = Path(swagger_ui.__file__).parent / "static"

ROUTES = [
    create_static_files_router(
        path=ASSETS_PATH, directories=[ASSETS_DIR], include_in_schema=False, opt={"public": True},
        name="docs-assets", cache_control=None,
    )
]
