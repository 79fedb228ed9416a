// Prompt editing keys, as in A1111, for every textarea inside an element whose id ends in "_prompt"
// (txt2img_prompt, txt2img_neg_prompt, img2img_prompt, ...):
//   Ctrl/Cmd + Up/Down   raise/lower the weight of the selection (or of the word or bracket under the caret)
//   Alt + Left/Right     move the comma-separated item(s) under the selection one place (setting keyedit_move)
// The string logic is pure (window.sdKeyedit.editWeight / moveItems) so tests can call it directly.
(() => {
  "use strict";

  const DEFAULTS = {
    precisionAttention: 0.1, // keyedit_precision_attention: step for (text:weight)
    precisionExtra: 0.05, // keyedit_precision_extra: step for <lora:name:weight>
    delimiters: ".,\\/!?%^*;:{}=`~() ", // keyedit_delimiters: what ends a word
    whitespaceDelimiters: "\t\r\n", // tab, carriage return and line feed also end a word
    move: true, // keyedit_move
  };

  // Settings written by the server into a hidden element on page load (falls back to A1111's defaults).
  function currentOptions() {
    const element = document.getElementById("keyedit_options");
    if (!element || !element.dataset.options) return DEFAULTS;
    try {
      return { ...DEFAULTS, ...JSON.parse(element.dataset.options) };
    } catch (error) {
      return DEFAULTS;
    }
  }

  // The inside of the open/close pair around a caret, or null. For a weighted group "(text:1.2)" only the
  // text before the last colon is taken, so the weight itself is what changes.
  function enclosingGroup(text, caret, open, close) {
    const before = text.slice(0, caret);
    const opening = before.lastIndexOf(open);
    if (opening === -1 || before.lastIndexOf(close) > opening) return null;
    const after = text.slice(caret);
    const closing = after.indexOf(close);
    const nextOpening = after.indexOf(open);
    if (closing === -1 || (nextOpening !== -1 && nextOpening < closing)) return null;
    const start = opening + 1;
    const inside = text.slice(start, caret + closing);
    if (/:-?[\d.]/.test(inside)) return [start, start + inside.lastIndexOf(":")];
    return [start, caret + closing];
  }

  // The word around a caret, bounded by delimiters, without surrounding spaces.
  function wordAt(text, caret, delimiters) {
    let start = caret;
    let end = caret;
    while (start > 0 && !delimiters.includes(text[start - 1])) start--;
    while (end < text.length && !delimiters.includes(text[end])) end++;
    while (start < end && text[start] === " ") start++;
    while (end > start && text[end - 1] === " ") end--;
    return [start, end];
  }

  // What a caret without selection edits: the <...>, (...) or [...] it is in, else the word it is on.
  function targetOf(text, caret, options) {
    return enclosingGroup(text, caret, "<", ">") || enclosingGroup(text, caret, "(", ")")
      || enclosingGroup(text, caret, "[", "]")
      || wordAt(text, caret, options.delimiters + options.whitespaceDelimiters);
  }

  // How a weight is written: at most 12 significant digits, whole numbers with ".0" ("1.0", "2.0").
  function formatWeight(weight) {
    const rounded = parseFloat(weight.toPrecision(12));
    return Number.isInteger(rounded) ? rounded.toFixed(1) : String(rounded);
  }

  // Rewrite the selection [start, end) of text as an explicit "(selection:weight)" so its weight can change.
  // Returns null when there is nothing to weight.
  function withExplicitWeight(text, start, end, options) {
    const before = start > 0 ? text[start - 1] : "";
    const after = text[end];
    if (before === "<") return { text, start, end, close: ">", step: options.precisionExtra };
    const step = options.precisionAttention;
    if ((before === "(" && after === ")") || (before === "[" && after === "]")) {
      // (x), ((x)), [x]: the bracket count becomes a number, e.g. ((x)) -> (x:1.2)
      let depth = 0;
      while (text[start - depth - 1] === before && text[end + depth] === after) depth++;
      const weight = Math.round((before === "(" ? 1.1 : 1 / 1.1) ** depth / step) * step;
      const rewritten = `${text.slice(0, start - depth)}(${text.slice(start, end)}:${formatWeight(weight)})`
        + text.slice(end + depth);
      return { text: rewritten, start: start - depth + 1, end: end - depth + 1, close: ")", step };
    }
    if (before === "(") return { text, start, end, close: ")", step }; // already (x:w)
    while (end > start && text[end - 1] === " ") end--;
    if (start === end) return null;
    const wrapped = `${text.slice(0, start)}(${text.slice(start, end)}:1.0)${text.slice(end)}`;
    return { text: wrapped, start: start + 1, end: end + 1, close: ")", step };
  }

  // Ctrl+Up/Down: the edited text and the new selection, or null when nothing changes.
  function editWeight(text, selectionStart, selectionEnd, up, options = DEFAULTS) {
    options = { ...DEFAULTS, ...options };
    let [start, end] = [selectionStart, selectionEnd];
    if (start === end) [start, end] = targetOf(text, start, options);
    const group = withExplicitWeight(text, start, end, options);
    if (group === null || group.text[group.end] !== ":") return null;
    ({ text, start, end } = group);
    const closing = text.indexOf(group.close, end + 1);
    const weight = closing === -1 ? NaN : parseFloat(text.slice(end + 1, closing));
    if (Number.isNaN(weight)) return null;
    const shown = formatWeight(weight + (up ? group.step : -group.step));
    if (group.close === ")" && parseFloat(shown) === 1) {
      // back to the default weight: drop the brackets and the number
      return { text: text.slice(0, start - 1) + text.slice(start, end) + text.slice(closing + 1),
               start: start - 1, end: end - 1 };
    }
    return { text: text.slice(0, end + 1) + shown + text.slice(closing), start, end };
  }

  // Alt+Left/Right: move the comma-separated items the selection touches one place; null at either end.
  function moveItems(text, selectionStart, selectionEnd, left) {
    const items = text.split(",");
    const commasBefore = (position) => (text.slice(0, position).match(/,/g) || []).length;
    const first = commasBefore(selectionStart);
    const last = commasBefore(selectionEnd);
    const target = left ? first - 1 : first + 1;
    if (target < 0 || (!left && last >= items.length - 1)) return null;
    const moved = items.splice(first, last - first + 1);
    items.splice(target, 0, ...moved);
    const start = items.slice(0, target).join(",").length + (target === 0 ? 0 : 1);
    const end = items.slice(0, target + moved.length).join(",").length;
    return { text: items.join(","), start, end };
  }

  function apply(textarea, edit) {
    textarea.value = edit.text;
    textarea.setSelectionRange(edit.start, edit.end);
    textarea.dispatchEvent(new Event("input", { bubbles: true })); // Gradio reads the value on "input"
  }

  function onKeydown(event) {
    const textarea = event.composedPath()[0];
    if (!(textarea instanceof HTMLTextAreaElement) || !textarea.closest("[id$='_prompt']")) return;
    const options = currentOptions();
    const vertical = event.key === "ArrowUp" || event.key === "ArrowDown";
    const horizontal = event.key === "ArrowLeft" || event.key === "ArrowRight";
    let edit;
    if ((event.ctrlKey || event.metaKey) && vertical) {
      edit = editWeight(textarea.value, textarea.selectionStart, textarea.selectionEnd,
                        event.key === "ArrowUp", options);
    } else if (event.altKey && horizontal && options.move) {
      edit = moveItems(textarea.value, textarea.selectionStart, textarea.selectionEnd, event.key === "ArrowLeft");
    } else {
      return;
    }
    event.preventDefault();
    if (edit) apply(textarea, edit);
  }

  window.sdKeyedit = { editWeight, moveItems, DEFAULTS };
  document.addEventListener("keydown", onKeydown);
})();
