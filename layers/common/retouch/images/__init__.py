"""Image bytes: recognising formats and reading headers (Pillow only on demand)."""

from retouch.images.inspect import CONTENT_TYPES, ImageInfo, UnreadableImage, inspect_image, sniff_format

__all__ = ["CONTENT_TYPES", "ImageInfo", "UnreadableImage", "inspect_image", "sniff_format"]
