"""Reports the window and the command line write with Qt (the review report as a PDF)."""
