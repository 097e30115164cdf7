"""Reading the store for people: the query language and its filter, the column cache that
answers filters, sorts, facets and the histogram, full-text matching, and windows of rows."""
