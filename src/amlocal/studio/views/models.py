"""Models: every registered version with its tags, properties, producing run (linked) and a
download (the file itself, or a zip of a model directory)."""

import os
import tempfile
import zipfile
from pathlib import Path
from urllib.parse import quote

from starlette.routing import Route
from starlette.responses import StreamingResponse

from ..app import guarded

NAV = ("Models", "/models")


def routes(studio):
    data = studio.data

    @guarded(studio)
    def models_page(request):
        name = request.query_params.get("name") or None
        return studio.page(request, "models.html", models=data.models(name=name), name=name, active="/models",
                           title="Models")

    @guarded(studio, api=True)
    def models_api(request):
        return studio.json(data.models(name=request.query_params.get("name") or None))

    @guarded(studio, api=True)
    def model_api(request):
        return studio.json(data.model(request.path_params["name"], request.path_params["version"]))

    @guarded(studio)
    def model_download(request):
        name, version = request.path_params["name"], request.path_params["version"]
        model = data.model(name, version)
        path = Path(data.model_path(name, version))
        base = f"{model['name']}-{model['version']}"
        if path.is_dir():
            handle, filename = _zip_of(path), f"{base}.zip"
        else:
            handle, filename = open(path, "rb"), path.name
        return StreamingResponse(_chunks(handle), media_type="application/octet-stream",
                                 headers={"content-disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
                                          "cache-control": "no-store"})

    return [
        Route("/models", models_page),
        Route("/models/{name}/{version:int}/download", model_download),
        Route("/api/models", models_api),
        Route("/api/models/{name}/{version:int}", model_api),
    ]


def _zip_of(directory):
    """A zip of the model directory's regular files; links are left out (never followed)."""
    handle = tempfile.TemporaryFile()
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
        for root, dirs, files in os.walk(directory, followlinks=False):
            for file_name in sorted(files):
                path = Path(root) / file_name
                if path.is_symlink() or not path.is_file():
                    continue
                archive.write(path, path.relative_to(directory).as_posix())
    handle.seek(0)
    return handle


def _chunks(handle, size=256 * 1024):
    with handle:
        while chunk := handle.read(size):
            yield chunk
