"""The PyQt6 desktop application of gridtool. The only package that imports Qt."""
