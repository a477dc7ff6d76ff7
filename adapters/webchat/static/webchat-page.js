// The web chat page, made live: answers go over a WebSocket and the conversation is redrawn
// in place (the header and title too, when the language changes), focus moved to the new
// question and the bot's words announced. Without script, or when no socket can be opened
// (the server refuses one past its limits, a proxy blocks them), the page's plain forms post
// and the server answers with the next page.
(function () {
  "use strict";
  var main = document.getElementById("survey");
  var top = document.getElementById("top");
  var said = document.getElementById("said");
  if (!main || !window.WebSocket) { return; }
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  var socket = null;
  var queued = null;  // an answer waiting for the socket to open: its message and its form
  var live = true;  // false once a socket could not be opened: forms post as without script

  function open() {
    var opened = false;
    socket = new WebSocket(scheme + location.host + main.getAttribute("data-socket"));
    socket.onopen = function () {
      opened = true;
      if (queued) { socket.send(queued.message); queued = null; }
    };
    socket.onmessage = function (event) { show(JSON.parse(event.data)); };
    socket.onclose = function () {
      socket = null;
      if (opened) { return; }
      live = false;
      if (queued) { post(queued.form, queued.button); queued = null; }
    };
  }

  function post(form, button) {
    // The answer as the plain form posts it (submit() sends no submitter: add its value).
    if (button && button.name) {
      var field = document.createElement("input");
      field.type = "hidden";
      field.name = button.name;
      field.value = button.value;
      form.appendChild(field);
    }
    form.submit();
  }

  function show(reply) {
    if (reply.html === undefined) { return; }
    if (reply.language && reply.language !== document.documentElement.lang) {
      // A change of language: the header and title follow, and a screen reader's voice.
      document.documentElement.lang = reply.language;
      document.title = reply.title;
      top.innerHTML = reply.top;
    }
    main.innerHTML = reply.html;
    said.textContent = reply.said || "";
    var target = document.getElementById("question");
    if (target) { target.focus(); }
  }

  main.addEventListener("submit", function (event) {
    if (!live) { return; }
    var form = event.target;
    var button = event.submitter;
    var data = new FormData(form);
    var choices = data.getAll("choice");
    var answer = button && button.name === "answer" ? button.value : "";
    var message = JSON.stringify({
      csrf: data.get("csrf"), question: data.get("question"), nonce: data.get("nonce"),
      answer: answer, choice: choices, text: data.get("text") || ""
    });
    event.preventDefault();
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(message); return; }
    queued = {message: message, form: form, button: button};
    if (!socket) { open(); }
  });
  open();
})();
