"""Exports: offline HTML maps (html_map), problem lists (problem_list). No Qt."""
