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

  document.addEventListener("DOMContentLoaded", function () {
    startCountdowns(document);
    focusProblems(document);
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
