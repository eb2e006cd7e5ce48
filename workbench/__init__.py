"""The browser workbench's shared code: the shell every page draws in (navigation and sidebar),
session helpers, the draft editor and safe text. Not a page: Streamlit runs only ``app.py``
and the scripts in ``pages/``; the pages import from here.
"""
