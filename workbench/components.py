"""The two pieces of the workbench that run in the browser: a copy button and a live character
counter. Both are small ``st.components.v2`` components whose code is this module's own.

Untrusted text never becomes markup or code here. The copy button gets the text to copy as
data and hands it to the clipboard; its label is set as text. The counter reads the editor's
text area as the person types and writes only numbers and fixed words, as text, into its own
element; it never touches the elements Streamlit draws. What it counts mirrors
``FormatSpec.counts`` (characters as Python counts them: code points), so the numbers while
typing are the numbers the page shows once the text is committed.
"""

from __future__ import annotations

import hashlib

import streamlit.components.v2 as components

__all__ = ["copy_button", "live_counter", "css_key"]

_COPY_JS = """
export default function (component) {
  const { parentElement, data } = component;
  const button = parentElement.querySelector("button");
  button.textContent = data.label;
  button.title = data.help;
  button.onclick = async () => {
    try {
      await navigator.clipboard.writeText(data.text);
      button.textContent = data.done;
    } catch (error) {
      button.textContent = data.failed;
    }
    setTimeout(() => { button.textContent = data.label; }, 1600);
  };
}
"""

_COPY_CSS = """
button {
  font: inherit; font-size: 0.875rem; line-height: 1.4; padding: 0.25rem 0.75rem; cursor: pointer;
  color: var(--st-text-color, #31333f); background: var(--st-background-color, #fff);
  border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem;
}
button:hover { border-color: var(--st-primary-color, #ff4b4b); color: var(--st-primary-color, #ff4b4b); }
"""

_COUNTER_JS = """
const codePoints = (text) => [...text].length;
const grouped = (n) => n.toLocaleString("en-US");

function parts(text, threaded) {
  if (!threaded) return [text];
  return text.split(/^\\s*---\\s*$/m).map((p) => p.trim()).filter((p) => p);
}

function piece(text, over) {
  const span = document.createElement("span");
  span.textContent = text;
  if (over) span.className = "over";
  return span;
}

function show(line, text, data) {
  const posts = parts(text, data.threaded);
  const pieces = [];
  if (data.threaded) {
    posts.forEach((post, i) => {
      const n = codePoints(post);
      pieces.push(piece(`Post ${i + 1}: ${grouped(n)}`, data.per_post !== null && n > data.per_post));
      pieces.push(piece(" · "));
    });
    const total = posts.reduce((sum, post) => sum + codePoints(post), 0);
    const each = data.per_post !== null ? ` of ${grouped(data.per_post)} each;` : "";
    pieces.push(piece(`${posts.length} posts${each} ${grouped(total)} characters in total`));
  } else {
    const n = codePoints(text);
    const limit = data.total !== null ? ` / ${grouped(data.total)}` : "";
    pieces.push(piece(`${grouped(n)}${limit} characters`, data.total !== null && n > data.total));
  }
  line.replaceChildren(...pieces);
  line.classList.toggle("has-over", pieces.some((p) => p.className === "over"));
}

export default function (component) {
  const { parentElement, data } = component;
  const line = parentElement.querySelector(".count");
  const selector = `.st-key-${data.area} textarea`;
  const area = document.querySelector(selector);
  show(line, area ? area.value : data.text, data);
  // Listen on the document, not on the text area: Streamlit may draw the area after this
  // component, or draw it anew on a rerun, and a listener on the element would then hear nothing.
  const update = (event) => {
    if (event.target instanceof HTMLTextAreaElement && event.target.matches(selector)) {
      show(line, event.target.value, data);
    }
  };
  document.addEventListener("input", update, true);
  return () => document.removeEventListener("input", update, true);
}
"""

_COUNTER_CSS = """
.count { font-size: 0.875rem; color: rgba(49, 51, 63, 0.6); line-height: 1.5; }
.count .over { color: rgb(255, 43, 43); font-weight: 600; }
"""

_copy = components.component("clipinsight.copy", html="<button type='button'></button>", css=_COPY_CSS, js=_COPY_JS)
_counter = components.component(
    "clipinsight.counter", html="<div class='count' aria-live='polite'></div>", css=_COUNTER_CSS, js=_COUNTER_JS
)


def css_key(*parts: str) -> str:
    """A widget key that is also a CSS class name (``st-key-<key>``), for the counter to find."""
    return "ci-" + hashlib.sha1(":".join(parts).encode()).hexdigest()[:12]


def copy_button(text: str, label: str, *, key: str, help: str = "Copy to the clipboard") -> None:
    """A button that copies ``text`` (as it is: untrusted text stays data) to the clipboard."""
    data = {"text": text, "label": label, "done": "Copied ✓", "failed": "Copy failed", "help": help}
    _copy(key=key, data=data, height="content", width="content")


def live_counter(area_key: str, text: str, *, threaded: bool, per_post: int | None, total: int | None) -> None:
    """Characters per post and in total of the text area in ``st.container(key=area_key)``,
    updated as the person types (red past a limit); ``text`` is what it counts until then."""
    data = {"area": area_key, "text": text, "threaded": threaded, "per_post": per_post, "total": total}
    _counter(key=f"{area_key}-count", data=data, height="content")
