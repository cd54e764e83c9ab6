"""Train Mode: Ableton Live sets + rendered MP3s -> a captioned text-to-music dataset.

A plain Python package (no Streamlit import): the pages in pages/ and the CLI
(`python -m trainmode`) are thin layers over it.
"""

__version__ = "0.1.0"
