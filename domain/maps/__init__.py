"""Procedural battle maps without any model: seeded dungeon, cave and region layouts, a
PNG at a chosen grid size, the JSON layout, and a Universal VTT (.dd2vtt) export."""
