/* Progressive enhancements; every page works without this file. No inline script (CSP). */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function startCountdowns(root) {
    root.querySelectorAll("[data-countdown]").forEach(function (button) {
      var left = parseInt(button.getAttribute("data-countdown"), 10) || 0;
      var label = button.textContent;
      button.removeAttribute("data-countdown");
      if (left <= 0) return;
      button.disabled = true;
      button.setAttribute("aria-disabled", "true");
      var tick = function () {
        if (left <= 0 || !document.body.contains(button)) {
          button.disabled = false;
          button.removeAttribute("aria-disabled");
          button.textContent = label;
          return;
        }
        button.textContent = left + "秒后重新获取";
        left -= 1;
        window.setTimeout(tick, 1000);
      };
      tick();
    });
  }

  function focusProblems(root) {
    var target = root.querySelector("[data-focus]");
    if (target) target.focus();
  }

  function showMessage(text) {
    var box = document.getElementById("messages");
    if (!box) return;
    box.innerHTML = "";
    var p = document.createElement("p");
    p.className = "message message--error";
    p.textContent = text;
    box.appendChild(p);
  }

  document.addEventListener("click", function (event) {
    var refresh = event.target.closest(".captcha__refresh");
    if (!refresh) return;
    var image = refresh.closest(".captcha").querySelector(".captcha__image");
    if (!image) return;
    event.preventDefault();
    image.src = image.src.replace(/([?&]v=)[^&]*/, "$1" + Date.now());
  });

  // A reason ticked on the review decision ticks the parts it is about (the server refuses a
  // reason whose parts are not reopened, so without JavaScript the reviewer ticks them).
  document.addEventListener("change", function (event) {
    var reason = event.target;
    if (!reason.matches || !reason.matches("input[name=reasons][data-reopens]") || !reason.checked) return;
    var form = reason.form;
    reason.getAttribute("data-reopens").split(" ").forEach(function (key) {
      var part = key && form.querySelector('input[name=reopen][value="' + key + '"]');
      if (part) part.checked = true;
    });
  });

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  /* The idle logout (SESSION_IDLE_MINUTES, from <body data-session-minutes>): two minutes before
     it, a dialog offers 继续使用, which tells the server (POST data-keep-alive) without leaving the
     page, so nothing typed is lost. The server notes a request at most once a minute, so after an
     ordinary request the time is counted from a minute earlier; after 继续使用, exactly. */
  function watchSession() {
    var body = document.body;
    var minutes = parseInt(body.getAttribute("data-session-minutes"), 10);
    var dialog = document.getElementById("session-timeout");
    if (!minutes || !dialog || typeof dialog.showModal !== "function" || !window.fetch) return;
    var WARN = 2 * 60 * 1000, SLACK = 60 * 1000;
    var warning = dialog.querySelector('[data-session-state="warning"]');
    var ended = dialog.querySelector('[data-session-state="ended"]');
    var countdown = dialog.querySelector("[data-session-countdown]");
    var problem = dialog.querySelector("[data-session-problem]");
    var deadline = 0, timer = 0, ticking = 0, over = false;

    function activity(exact) {
      if (over) return;
      deadline = Date.now() + minutes * 60 * 1000 - (exact ? 0 : SLACK);
      if (dialog.open) dialog.close();
      schedule();
    }
    function schedule() {
      window.clearTimeout(timer);
      // At most a minute at a time: a phone that slept has timers that ran late.
      var wait = Math.min(Math.max(deadline - WARN - Date.now(), 0), 60 * 1000);
      timer = window.setTimeout(check, wait);
    }
    function check() {
      var left = deadline - Date.now();
      if (over) return;
      if (left <= 0) return end();
      if (left <= WARN) return warn(left);
      schedule();
    }
    function show(state) {
      warning.hidden = state !== warning;
      ended.hidden = state !== ended;
      var title = state.querySelector("h2"), text = state.querySelector("p");
      dialog.setAttribute("aria-labelledby", title.id);
      dialog.setAttribute("aria-describedby", text.id);
      if (!dialog.open) dialog.showModal();
    }
    function warn(left) {
      var seconds = Math.ceil(left / 1000);
      countdown.textContent = Math.floor(seconds / 60) + "分" + ("0" + seconds % 60).slice(-2) + "秒";
      if (warning.hidden || !dialog.open) {
        problem.hidden = true;
        show(warning);
      }
      window.clearTimeout(timer);
      timer = window.setTimeout(check, 1000);
    }
    function end() {
      over = true;
      window.clearTimeout(timer);
      show(ended);
    }
    function keepAlive() {
      fetch(body.getAttribute("data-keep-alive"), {
        method: "POST", credentials: "same-origin",
        headers: {"X-CSRFToken": csrfToken(), "HX-Request": "true"}
      }).then(function (response) {
        if (response.status === 204) activity(true);
        else if (response.status === 401) end();
        else problem.hidden = false;
      }, function () {
        problem.hidden = false;
      });
    }

    dialog.querySelector("[data-session-continue]").addEventListener("click", keepAlive);
    dialog.querySelector("[data-session-close]").addEventListener("click", function () {
      dialog.close();
    });
    dialog.addEventListener("cancel", function (event) {
      // Esc while warned means "still here", as 继续使用 does.
      if (!over) {
        event.preventDefault();
        keepAlive();
      }
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") check();
    });
    document.addEventListener("htmx:afterRequest", function (event) {
      var xhr = event.detail && event.detail.xhr;
      if (xhr && xhr.status && xhr.status !== 401) activity(false);
    });
    activity(false);
  }

  document.addEventListener("DOMContentLoaded", function () {
    startCountdowns(document);
    focusProblems(document);
    watchSession();
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    startCountdowns(event.detail.elt);
    focusProblems(event.detail.elt.parentNode || document);
  });
  document.addEventListener("htmx:sendError", function () {
    showMessage("网络连接失败，请检查网络后重试。您填写的内容仍在页面上。");
  });
  document.addEventListener("htmx:timeout", function () {
    showMessage("网络较慢，请求超时，请稍后重试。您填写的内容仍在页面上。");
  });
})();
