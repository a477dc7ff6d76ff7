// The survey builder, enhanced: each text's SMS cost follows typing, and a placeholder goes
// in at the cursor. The page works without this file (counts are shown on each submit).
(function () {
  "use strict";
  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENSION = "^{}\\[~]|€\f";
  var form = document.querySelector("form.builder");
  if (!form) { return; }
  var fill = JSON.parse(form.getAttribute("data-fill") || "{}");

  function render(template, values) {
    // The engine's str.format: {name} filled, {{ and }} literal braces, then trimmed.
    return template.replace(/\{\{|\}\}|\{([a-z_]*)\}/g, function (all, name) {
      if (all === "{{") { return "{"; }
      if (all === "}}") { return "}"; }
      return values[name] || "";
    }).trim();
  }

  function cost(text) {
    var units = 0, gsm = true, odd = "", i, c;
    for (i = 0; i < text.length; i++) {
      c = text.charAt(i);
      if (EXTENSION.indexOf(c) >= 0) { units += 2; }
      else if (BASIC.indexOf(c) >= 0) { units += 1; }
      else { gsm = false; if (odd.indexOf(c) < 0) { odd += c; } }
    }
    if (!gsm) { units = text.length; }  // UTF-16 code units, as the server counts them
    var single = gsm ? 160 : 70, multi = gsm ? 153 : 67;
    var segments = units <= single ? 1 : Math.ceil(units / multi);
    return { encoding: gsm ? "GSM-7" : "UCS-2", units: units, segments: segments, odd: odd };
  }

  function show(area) {
    var out = document.getElementById(area.id + "-sms");
    if (!out) { return; }
    if (!area.value.trim()) { out.textContent = "empty"; return; }
    var c = cost(render(area.value, fill[area.getAttribute("data-sms")] || {}));
    out.textContent = c.encoding + ", " + c.segments + (c.segments === 1 ? " segment" : " segments") +
      " (" + c.units + (c.units === 1 ? " character" : " characters") +
      (c.odd ? "; UCS-2 because of " + c.odd : "") + ")";
  }

  var last = {};
  Array.prototype.forEach.call(form.querySelectorAll("textarea[data-sms]"), function (area) {
    area.addEventListener("input", function () { show(area); });
    area.addEventListener("focus", function () {
      var group = area.closest("fieldset");
      if (group) { last[group.id] = area; }
    });
  });
  Array.prototype.forEach.call(form.querySelectorAll(".insert"), function (box) {
    box.hidden = false;
    var button = box.querySelector("button[data-insert]");
    var select = document.getElementById(button.getAttribute("data-insert"));
    button.addEventListener("click", function () {
      var group = box.closest("fieldset");
      var area = (group && last[group.id]) || (group && group.querySelector("textarea"));
      if (!area) { return; }
      var start = area.selectionStart, end = area.selectionEnd;
      area.value = area.value.slice(0, start) + select.value + area.value.slice(end);
      area.focus();
      area.selectionStart = area.selectionEnd = start + select.value.length;
      show(area);
    });
  });
})();
