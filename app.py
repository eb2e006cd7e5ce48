"""ClipInsight in the browser: ``streamlit run app.py`` (``make run`` starts it with the workers).

The navigation and the sidebar every page shares live in ``workbench/shell.py``; this script
draws them and runs the page the URL names from ``pages/``.
"""

from pipeline.private import keep_private
from workbench import shell

keep_private()  # uploads saved by the UI are its user's alone
shell.run_app()
