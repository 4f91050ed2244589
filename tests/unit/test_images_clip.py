"""CLIP's image embedding as the style embedding: the embedder on the tiny seeded CLIP (unit
vectors of its projection size; the same image, the same vector), a full CLIP folder's vision
tower and projection, and the images application with `style_embedding: {kind: clip}`
storing and scoring through the same HTTP API, in a vector collection of its own.

The tiny model's weights are random: these tests prove the path, not that it tells styles
apart (a real CLIP folder on a GPU node does that).
"""

from __future__ import annotations

import contextlib
import functools
import io
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from pydantic import ValidationError
from sqlalchemy import select
from starlette.testclient import TestClient

from cluster.database import Database
from cluster.settings import Settings
from deployments.apps import SERVE_CONFIG, compose_local
from deployments.images.app import ImagesConfig, StyleEmbeddingConfig, style_embedder
from domain.images.embedding import FINGERPRINT
from domain.images.fingerprint import consistency
from domain.images.models import StyleCentroid, StyleEmbedding
from domain.images.service import add_to_centroid
from domain.images.styles import DEFAULT_STYLE
from models import clip_style, registry, tiny_sd
from models.clip_style import ClipStyle, ClipStyleConfig
from tests.images_support import URL, generate, png, tiny_model
from tests.support import signup

CLIP_DIM = 16  # tiny-clip's projection_dim


@functools.cache
def tiny_clip() -> Path:
    """The tiny CLIP folder, built once per test session."""
    return clip_style.ensure(Path(tempfile.mkdtemp(prefix="lk-tiny-clip-")) / clip_style.NAME)


def picture(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return buf.getvalue()


def test_clip_embeddings_are_unit_vectors_and_repeat():
    embedder = ClipStyle(tiny_clip(), ClipStyleConfig())
    assert (embedder.name, embedder.dim) == ("clip:tiny-clip", CLIP_DIM)
    first = embedder.embed(picture(1))
    assert len(first) == CLIP_DIM
    assert np.linalg.norm(first) == pytest.approx(1.0, abs=1e-5)
    assert embedder.embed(picture(1)) == first
    assert embedder.embed(picture(2)) != first
    # The build is seeded: another folder, another process's build, the same vector.
    rebuilt = clip_style.ensure(Path(tempfile.mkdtemp()) / clip_style.NAME)
    again = ClipStyle(rebuilt, ClipStyleConfig()).embed(picture(1))
    assert again == pytest.approx(first, abs=1e-6)


def test_a_full_clip_folder_gives_clips_image_features(tmp_path):
    """A real CLIP folder holds both towers, and its projection size at the top of its
    config: the embedder loads the vision tower alone and matches CLIPModel's features."""
    import torch
    from transformers import CLIPConfig, CLIPModel

    torch.manual_seed(5)
    tower = {"hidden_size": 32, "intermediate_size": 37, "num_attention_heads": 4,
             "num_hidden_layers": 2}
    config = CLIPConfig(text_config={**tower, "vocab_size": 99, "bos_token_id": 0,
                                     "eos_token_id": 1, "pad_token_id": 1},
                        vision_config={**tower, "image_size": 32, "patch_size": 8},
                        projection_dim=24)
    folder = tmp_path / "clip-vit-test"
    CLIPModel(config).eval().save_pretrained(folder)
    shutil.copy(tiny_clip() / "preprocessor_config.json", folder)
    assert registry.resolve_clip(str(folder), tmp_path / "models") == folder.resolve()

    embedder = ClipStyle(folder, ClipStyleConfig(model=str(folder)))
    assert (embedder.name, embedder.dim) == ("clip:clip-vit-test", 24)
    vector = embedder.embed(picture(3))
    model = CLIPModel.from_pretrained(folder).eval()
    pixels = clip_style._processor_class().from_pretrained(folder)(
        images=Image.open(io.BytesIO(picture(3))).convert("RGB"), return_tensors="pt"
    )["pixel_values"]
    with torch.inference_mode():
        features = model.get_image_features(pixel_values=pixels).pooler_output[0]
    expected = torch.nn.functional.normalize(features, dim=-1).tolist()
    assert vector == pytest.approx(expected, abs=1e-5)


def test_the_config_chooses_the_embedder(tmp_path):
    assert ImagesConfig().style_embedding.kind == "fingerprint"
    assert style_embedder(StyleEmbeddingConfig(), tmp_path) is FINGERPRINT
    with pytest.raises(ValidationError):
        ImagesConfig.model_validate({"style_embedding": {"kind": "dino"}})
    with pytest.raises(FileNotFoundError, match="No CLIP model '/nowhere/clip'"):
        style_embedder(StyleEmbeddingConfig(kind="clip", model="/nowhere/clip"), tmp_path)
    # A folder without its image processor's config is not a CLIP folder to us.
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "config.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match=r"preprocessor_config\.json"):
        style_embedder(StyleEmbeddingConfig(kind="clip", model="half"), tmp_path)


@contextlib.contextmanager
def composed_with_clip(db: Database, settings: Settings) -> Iterator[tuple[TestClient, dict]]:
    """Every application in process, the images one with `style_embedding: {kind: clip}`."""
    raw = yaml.safe_load(SERVE_CONFIG.read_text())
    (images,) = [app for app in raw["applications"] if app["name"] == "images"]
    images["args"]["style_embedding"] = {"kind": "clip", "model": clip_style.NAME}
    config = settings.data_dir / "serve_config.yaml"
    config.write_text(yaml.safe_dump(raw))
    models = settings.data_dir / "models"
    models.mkdir(parents=True, exist_ok=True)
    (models / tiny_sd.NAME).symlink_to(tiny_model())
    (models / clip_style.NAME).symlink_to(tiny_clip())
    app, ingresses = compose_local(settings, db, config)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, ingresses


def test_the_images_app_scores_styles_with_clip(db, settings):
    with composed_with_clip(db, settings) as (client, ingresses):
        images = ingresses["images"]
        assert images.style_collection == "image_styles_clip_tiny-clip"
        dm = signup(client, "clip-dm")  # the first account: admin, may create campaigns
        r = dm.post("/api/v2/campaigns", json={"name": "Clipped", "ruleset": "2024"})
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        with db.session() as s:  # the fingerprint scored this style before the switch
            add_to_centroid(s, cid, DEFAULT_STYLE, [FINGERPRINT.embed(png())], FINGERPRINT.name)

        first = generate(dm, campaign_id=cid, seed=1, steps=2)
        assert first.status_code == 201, first.text
        first_image = first.json()["images"][0]
        # The fingerprint's centroid is not CLIP's: the first CLIP image starts the style.
        assert first_image["style_score"] == {"score": 1.0, "flagged": False,
                                              "centroid_size": 0}
        second = generate(dm, campaign_id=cid, seed=2, steps=2).json()["images"][0]
        score = second["style_score"]
        assert score["centroid_size"] == 1

        contents = [dm.get(i["version"]["urls"]["content"]).content
                    for i in (first_image, second)]
        vectors = [images.embedder.embed(c) for c in contents]
        assert score["score"] == pytest.approx(consistency(vectors[1], vectors[0]), abs=1e-4)
        assert score["score"] != pytest.approx(
            consistency(FINGERPRINT.embed(contents[1]), FINGERPRINT.embed(contents[0])),
            abs=1e-4,
        )  # not the fingerprint's score under another name

        points = images.vectors.points(images.style_collection, where={"campaign_id": cid})
        assert [p.id for p in points] == [i["version"]["version_id"]
                                         for i in (first_image, second)]
        for point, vector in zip(points, vectors, strict=True):
            assert point.vector == pytest.approx(vector, abs=1e-5)
        with pytest.raises(KeyError):  # the fingerprint's collection was never opened
            images.vectors.count("image_styles")

        with db.session() as s:
            embedders = s.scalars(select(StyleEmbedding.embedder)).all()
            centroid = s.get(StyleCentroid, (cid, DEFAULT_STYLE))
            assert embedders == ["clip:tiny-clip"] * 2
            assert centroid.embedder == "clip:tiny-clip" and len(centroid.total) == CLIP_DIM
            assert centroid.count == 1 + (not score["flagged"])
        r = dm.get(f"{URL}/jobs")
        assert r.status_code == 200 and len(r.json()["items"]) == 2
