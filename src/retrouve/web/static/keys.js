// Keyboard shortcuts of the search and sequence pages, and their help dialog (#keys-help,
// from _keys_help.html; its data-keys-page says which page this is). docs/web.md lists them.
//
// Keys are matched on KeyboardEvent.key, so "?", "," and "." follow the user's layout (on
// AZERTY "?" is Shift+"," and "." is Shift+";"): Shift is allowed, Alt/Ctrl/Meta are not
// (those combinations belong to the browser and the system). No single-key shortcut fires
// while typing in a field; Ctrl+Enter (⌘+Enter) is the one shortcut meant for fields.
(function () {
  "use strict";
  var help = document.getElementById("keys-help");
  if (!help) { return; }
  var page = help.getAttribute("data-keys-page");
  var back = null;  // where the focus was before the help opened

  function typing(el) {
    if (!el || !el.tagName) { return false; }
    return el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" ||
      el.isContentEditable;
  }

  // A control whose own Space/Enter must keep working (pressing a button, following a link).
  function control(el) {
    return !!(el && el.closest &&
      el.closest("a[href], button, summary, [role=button], [role=link]"));
  }

  function openHelp() {
    back = document.activeElement;
    if (typeof help.showModal === "function") { help.showModal(); } else { help.open = true; }
  }

  function closeHelp() {
    if (typeof help.close === "function") { help.close(); } else { help.open = false; }
  }

  // Escape (the browser's own for a modal dialog) and the button both end here.
  help.addEventListener("close", function () {
    if (back && back.focus && document.contains(back)) { back.focus(); }
    back = null;
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-keys-close]"), function (b) {
    b.addEventListener("click", closeHelp);
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-keys-open]"), function (b) {
    b.addEventListener("click", openHelp);
  });

  // The "relevant" button of a mark form (_mark_form.html) inside scope, pressed as a click
  // would: the server journals the mark and answers with the page again.
  function markRelevant(scope) {
    var button = scope && scope.querySelector(
      "form.mark-form button[name=mark][value=relevant]");
    if (!button) { return false; }
    if (typeof button.form.requestSubmit === "function") {
      button.form.requestSubmit(button);
    } else {
      button.click();
    }
    return true;
  }

  // ------------------------------------------------------------------ search page
  function cards() {
    return Array.prototype.slice.call(document.querySelectorAll(".results .hit"));
  }

  function cardOf(el) {
    return el && el.closest ? el.closest(".results .hit") : null;
  }

  // Focus moves to the card itself (made focusable by script, out of the Tab order: Tab
  // still goes through its link), so a screen reader reads the whole card.
  function moveCard(step) {
    var list = cards();
    if (!list.length) { return false; }
    var i = list.indexOf(cardOf(document.activeElement));
    var next = i < 0 ? (step > 0 ? 0 : list.length - 1)
      : Math.min(list.length - 1, Math.max(0, i + step));
    var card = list[next];
    if (!card.hasAttribute("tabindex")) { card.setAttribute("tabindex", "-1"); }
    card.focus();
    return true;
  }

  function openCard(card) {
    var link = card.querySelector("a[href^='/track/']");
    if (!link) { return false; }
    link.click();
    return true;
  }

  function searchKey(e) {
    var card = cardOf(e.target);
    switch (e.key) {
      case "j": return moveCard(1);
      case "k": return moveCard(-1);
      // On the card itself only: on its link Enter already follows the link.
      case "Enter": return !e.repeat && card !== null && card === e.target && openCard(card);
      case "m": return !e.repeat && card !== null && markRelevant(card);
      default: return false;
    }
  }

  // ---------------------------------------------------------------- sequence page
  var video = document.getElementById("player");

  // Seconds of one frame: the recording's own rate, given by the server (data-fps on the
  // <video>); none known, no stepping rather than a guessed rate.
  function frameSeconds() {
    var fps = video ? parseFloat(video.getAttribute("data-fps")) : NaN;
    return isFinite(fps) && fps > 0 ? 1 / fps : null;
  }

  function togglePlay() {
    if (video.paused || video.ended) {
      var playing = video.play();
      if (playing && playing.catch) { playing.catch(function () {}); }  // not ready yet
    } else {
      video.pause();
    }
    return true;
  }

  function stepFrames(n) {
    var dt = frameSeconds();
    if (!dt) { return false; }
    video.pause();
    // While a seek is pending currentTime already reads its target, so quick presses add up.
    var t = video.currentTime + n * dt;
    var end = isFinite(video.duration) ? video.duration : t;
    video.currentTime = Math.max(0, Math.min(end, t));
    return true;
  }

  // Chromium's video controls toggle on the key's *keyup*, from a listener on the video:
  // once the keydown has toggled, the matching keyup is stopped before it gets there
  // (capture phase), or a focused video would play and pause again at once.
  var spaceDone = false;
  document.addEventListener("keyup", function (e) {
    if (e.key !== " ") { return; }
    if (spaceDone) { e.preventDefault(); e.stopPropagation(); }
    spaceDone = false;
  }, true);

  function trackKey(e) {
    switch (e.key) {
      // Space on the video is handled here too (its controls' own toggle is prevented, so
      // it toggles once); on a button or a link it stays theirs.
      case " ":
        if (!video || (e.target !== video && control(e.target))) { return false; }
        spaceDone = true;
        return e.repeat || togglePlay();  // held down: one toggle, no flicker
      case ",": return !!video && stepFrames(-1);
      case ".": return !!video && stepFrames(1);
      case "m": return !e.repeat && markRelevant(document);
      default: return false;
    }
  }

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.isComposing) { return; }
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && !e.altKey) {
      var form = page === "search" && e.target.closest ? e.target.closest("form.criteria")
        : null;
      if (form && !e.repeat) {
        e.preventDefault();
        if (typeof form.requestSubmit === "function") { form.requestSubmit(); } else { form.submit(); }
      }
      return;
    }
    if (e.altKey || e.ctrlKey || e.metaKey || typing(e.target)) { return; }
    if (help.open) { return; }  // the dialog keeps its own keys: Tab, Escape, its button
    var done = e.key === "?" ? (openHelp(), true)
      : page === "search" ? searchKey(e)
      : page === "track" ? trackKey(e) : false;
    if (done) { e.preventDefault(); }
  });
})();
