"""Deterministic synthetic fruit photos: one fruit on white, 100x100, classes differing in
colour, shape and surface texture, each image with its own pose, scale and lighting."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SIZE = 100


@dataclass(frozen=True)
class FruitClass:
    """What makes a class: hue (OpenCV 0-179), saturation, body aspect ratio and texture."""

    name: str
    hue: int
    saturation: int
    aspect: float
    texture: str  # smooth | speckle | stripes | hairy | seeds
    stem: bool


CLASSES: tuple[FruitClass, ...] = (
    FruitClass("Apple Red 1", 2, 200, 1.0, "speckle", True),
    FruitClass("Banana 1", 27, 190, 2.6, "stripes", True),
    FruitClass("Kiwi 1", 16, 120, 1.25, "hairy", False),
    FruitClass("Orange 1", 13, 230, 1.0, "seeds", False),
    FruitClass("Strawberry 1", 176, 210, 0.8, "seeds", True),
    FruitClass("Lime 1", 45, 200, 1.15, "speckle", False),
    FruitClass("Pêche 1", 8, 140, 1.05, "hairy", True),
    FruitClass("Grape Blue 1", 125, 150, 1.1, "smooth", False),
    FruitClass("Pear 1", 32, 150, 1.45, "speckle", True),
    FruitClass("Plum 1", 150, 160, 1.05, "smooth", True),
    FruitClass("Lemon 1", 25, 220, 1.35, "seeds", False),
    FruitClass("Avocado 1", 55, 140, 1.4, "hairy", False),
)


def class_for(index: int) -> FruitClass:
    """The index-th class; beyond the named ones, procedurally varied classes."""
    if index < len(CLASSES):
        return CLASSES[index]
    rng = np.random.default_rng(index)
    textures = ("smooth", "speckle", "stripes", "hairy", "seeds")
    return FruitClass(f"Fruit {index + 1}", int(rng.integers(0, 180)), int(rng.integers(120, 240)),
                      float(rng.uniform(0.8, 2.0)), textures[index % len(textures)], bool(index % 2))


def _texture(kind: str, rng: np.random.Generator, mask: np.ndarray) -> np.ndarray:
    """A value-channel modulation (float32, around 0) that gives ORB corners to find."""
    tex = np.zeros((SIZE, SIZE), np.float32)
    if kind == "speckle":
        for _ in range(int(rng.integers(25, 45))):
            x, y = rng.integers(10, 90, 2)
            cv2.circle(tex, (int(x), int(y)), int(rng.integers(1, 3)), float(rng.uniform(-70, -40)), -1)
    elif kind == "seeds":
        for _ in range(int(rng.integers(40, 70))):
            x, y = rng.integers(8, 92, 2)
            cv2.ellipse(tex, (int(x), int(y)), (2, 1), float(rng.uniform(0, 180)), 0, 360, float(rng.uniform(50, 90)), -1)
    elif kind == "stripes":
        yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
        tex += 35 * np.sin((xx * np.cos(0.3) + yy * np.sin(0.3)) / rng.uniform(2.5, 3.5))
    elif kind == "hairy":
        tex += rng.normal(0, 28, (SIZE, SIZE)).astype(np.float32)
        tex = cv2.GaussianBlur(tex, (3, 3), 0.7)
    else:
        tex += rng.normal(0, 4, (SIZE, SIZE)).astype(np.float32)
    return tex * (mask > 0)


def render(cls: FruitClass, rng: np.random.Generator) -> np.ndarray:
    """One 100x100 BGR uint8 image of `cls`, pose and lighting drawn from `rng`."""
    scale = rng.uniform(0.72, 0.95)
    minor = 36 * scale / max(1.0, cls.aspect ** 0.5)
    major = min(47.0, minor * cls.aspect)
    centre = (50 + rng.uniform(-3, 3), 50 + rng.uniform(-3, 3))
    mask = np.zeros((SIZE, SIZE), np.uint8)
    cv2.ellipse(mask, (int(centre[0]), int(centre[1])), (int(minor), int(major)), 0, 0, 360, 255, -1)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    light = np.array([rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5)], np.float32)
    dist = ((xx - centre[0] - light[0] * minor) / minor) ** 2 + ((yy - centre[1] - light[1] * major) / major) ** 2
    shade = 1.0 - 0.45 * np.clip(dist, 0, 1.6)
    gain = rng.uniform(0.8, 1.05)
    hue = (cls.hue + rng.normal(0, 2.5)) % 180
    hsv = np.zeros((SIZE, SIZE, 3), np.float32)
    hsv[..., 0] = hue
    hsv[..., 1] = np.clip(cls.saturation + rng.normal(0, 12), 60, 255)
    hsv[..., 2] = np.clip(235 * gain * shade + _texture(cls.texture, rng, mask), 15, 255)
    body = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2BGR)
    img = np.full((SIZE, SIZE, 3), 255, np.uint8)
    img[mask > 0] = body[mask > 0]
    if cls.stem:
        top = (int(centre[0]), int(centre[1] - major))
        cv2.line(img, top, (top[0] + int(rng.integers(-4, 5)), top[1] - 7), (20, 60, 90), 2)
    rotation = cv2.getRotationMatrix2D((50, 50), float(rng.uniform(0, 360)), 1.0)
    img = cv2.warpAffine(img, rotation, (SIZE, SIZE), borderValue=(255, 255, 255))
    noise = rng.normal(0, 2.0, img.shape)
    return np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def image_rng(seed: int, class_index: int, image_index: int) -> np.random.Generator:
    """Independent, reproducible stream per image, whatever process renders it."""
    return np.random.default_rng([seed, class_index, image_index])


def render_jpeg(cls_index: int, image_index: int, seed: int, quality: int = 95) -> bytes:
    img = render(class_for(cls_index), image_rng(seed, cls_index, image_index))
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - imencode of a valid uint8 image does not fail
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()
