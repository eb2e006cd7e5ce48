"""ClipInsight in the browser: ``streamlit run app.py`` (``make run`` starts it with the workers).

The navigation and the sidebar every page shares live in ``workbench/shell.py``; this script
draws them and runs the page the URL names from ``pages/``.
"""

from workbench import shell

shell.run_app()
