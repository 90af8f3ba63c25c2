"""`furrow replay`: bad rows of a chosen type sent back through enrichment."""
