"""The design canvas: layer cards laid out from the input down, with level-of-detail and a minimap."""
