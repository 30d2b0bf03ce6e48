"""Map-layer models: a GeoDataFrame with name, kind, style, visibility and events. No Qt."""
