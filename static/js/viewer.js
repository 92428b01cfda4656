/* The reviewer's photo viewer: click a photo to enlarge it, 旋转 turns it 90°. */
(function () {
  "use strict";
  document.querySelectorAll(".viewer__rotate").forEach(function (button) { button.hidden = false; });
  document.addEventListener("click", function (event) {
    var link = event.target.closest(".viewer__link");
    if (link) {
      event.preventDefault();
      link.closest(".viewer").classList.toggle("viewer--large");
      return;
    }
    var rotate = event.target.closest(".viewer__rotate");
    if (rotate) {
      var image = rotate.closest(".viewer").querySelector(".viewer__image");
      var angle = ((parseInt(image.getAttribute("data-angle") || "0", 10) + 90) % 360);
      image.setAttribute("data-angle", String(angle));
      image.style.transform = "rotate(" + angle + "deg)";
    }
  });
})();
