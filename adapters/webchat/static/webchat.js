// Embeds the survey on an agency's page:
//   <script src="https://feedback.example.gov/webchat.js" data-survey-url="..." async></script>
// A button opens the survey in a panel (an iframe of the survey page, which works alone too);
// Escape or the close button closes it and returns focus to the button.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var url = script.getAttribute("data-survey-url");
  if (!url) { return; }
  var lang = (document.documentElement.lang || "en").slice(0, 2);
  var words = lang === "es"
    ? { open: "Denos su opinión", close: "Cerrar la encuesta", title: "Encuesta" }
    : { open: "Give feedback", close: "Close the survey", title: "Survey" };
  var opener = document.createElement("button");
  opener.type = "button";
  opener.textContent = script.getAttribute("data-label") || words.open;
  style(opener, { font: "inherit", fontWeight: "700", padding: "0.5rem 1.25rem",
                  minHeight: "2.75rem", background: "#005ea2", color: "#fff", border: "0",
                  borderRadius: "0.25rem", cursor: "pointer" });
  script.parentNode.insertBefore(opener, script.nextSibling);
  var panel = null;

  function style(element, rules) { for (var k in rules) { element.style[k] = rules[k]; } }

  function close() {
    if (!panel) { return; }
    panel.parentNode.removeChild(panel);
    panel = null;
    opener.setAttribute("aria-expanded", "false");
    opener.focus();
  }

  opener.setAttribute("aria-expanded", "false");
  opener.addEventListener("click", function () {
    if (panel) { close(); return; }
    panel = document.createElement("div");
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", words.title);
    style(panel, { position: "fixed", right: "0.5rem", bottom: "0.5rem", zIndex: "2147483000",
                   width: "min(26rem, calc(100vw - 1rem))", height: "min(40rem, calc(100vh - 1rem))",
                   background: "#fff", border: "1px solid #565c65", borderRadius: "0.5rem",
                   boxShadow: "0 0.5rem 2rem rgba(0,0,0,0.3)", display: "flex",
                   flexDirection: "column" });
    var shut = document.createElement("button");
    shut.type = "button";
    shut.textContent = "×";
    shut.setAttribute("aria-label", words.close);
    style(shut, { alignSelf: "flex-end", font: "inherit", fontSize: "1.5rem", minWidth: "2.75rem",
                  minHeight: "2.75rem", background: "#fff", color: "#1b1b1b", border: "0",
                  cursor: "pointer" });
    shut.addEventListener("click", close);
    var frame = document.createElement("iframe");
    frame.src = url;
    frame.title = words.title;
    style(frame, { flex: "1", width: "100%", border: "0" });
    panel.appendChild(shut);
    panel.appendChild(frame);
    document.body.appendChild(panel);
    opener.setAttribute("aria-expanded", "true");
    panel.addEventListener("keydown", function (event) { if (event.key === "Escape") { close(); } });
    frame.focus();
  });
})();
