"""The page's static CSS/JS and the hidden element that carries the prompt-editing settings to the browser."""
from __future__ import annotations

import html
import json
import re

from modules.core.settings import SettingsStore
from modules.interfaces.gradio_ui.page_assets import keyedit_options_html, page_assets


def test_page_assets_inline_the_static_files():
    assets = page_assets()
    assert ".token-counter" in assets.css and ".keyedit-options" in assets.css
    assert assets.head.startswith("<script>") and "window.sdKeyedit" in assets.head
    assert assets.head.count("</script>") == 2 and "window.sdShortcuts" in assets.head


def test_keyedit_options_follow_settings_and_are_escaped(tmp_path):
    store = SettingsStore(tmp_path / "config.json")
    store.update({"keyedit_precision_attention": 0.2, "keyedit_delimiters": "\"<>& ", "keyedit_move": False})
    text = keyedit_options_html(store)
    encoded = re.fullmatch(r'<div id="keyedit_options" data-options="([^"]*)"></div>', text).group(1)
    assert json.loads(html.unescape(encoded)) == {"precisionAttention": 0.2, "precisionExtra": 0.05,
                                                  "delimiters": "\"<>& ", "move": False}
