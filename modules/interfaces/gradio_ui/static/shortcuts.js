// A1111's keyboard habits: Ctrl+Enter (Cmd+Enter) generates in the visible generation tab, Esc interrupts it.
(function () {
  "use strict";
  const TABS = ["txt2img", "img2img"];

  function visible(element) {
    return element !== null && element.offsetParent !== null;
  }

  function activeTab() {
    return TABS.find((tab) => visible(document.getElementById(tab + "_generate"))) || null;
  }

  function press(id) {
    const button = document.getElementById(id);
    if (!visible(button) || button.disabled) {
      return false;
    }
    button.click();
    return true;
  }

  document.addEventListener("keydown", (event) => {
    const tab = activeTab();
    if (tab === null || event.isComposing) {
      return;
    }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey) {
      if (press(tab + "_generate")) {
        event.preventDefault();
      }
    } else if (event.key === "Escape" && !event.ctrlKey && !event.metaKey && !event.altKey) {
      press(tab + "_interrupt");
    }
  });

  window.sdShortcuts = { activeTab: activeTab };
})();
