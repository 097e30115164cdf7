"""Filtering: the filter's state, the search box and its controls, the action picker, the
facets and the timeline."""
