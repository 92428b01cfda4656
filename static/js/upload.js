/* Photo uploads on phones: shrink the picture on a canvas before sending it, so a 12 MP camera
   photo goes up as at most 200 KB (the 1-inch ID photo: cropped to 295×413, at most 20 KB).
   If the browser cannot do it, the original goes up and the server does the work. Without
   JavaScript the form is a plain multipart upload. No CDN, no worker, no inline script. */
(function () {
  "use strict";

  document.documentElement.classList.add("js-upload");

  var LIMITS = {
    document: { maxSide: 1600, maxBytes: 200 * 1024 },
    photo: { width: 295, height: 413, maxBytes: 20 * 1024 }
  };

  function canvasToBlob(canvas, quality) {
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", quality); });
  }

  function decode(file) {
    if (window.createImageBitmap) {
      return createImageBitmap(file, { imageOrientation: "from-image" }).catch(function () {
        return createImageBitmap(file);
      });
    }
    return new Promise(function (resolve, reject) {
      var img = new Image();
      img.onload = function () { resolve(img); };
      img.onerror = reject;
      img.src = URL.createObjectURL(file);
    });
  }

  function drawDocument(bitmap, limit) {
    var scale = Math.min(1, limit.maxSide / Math.max(bitmap.width, bitmap.height));
    var canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    return canvas;
  }

  function drawPhoto(bitmap, limit) {
    // Same crop as the server: centred across, keeping the top (the head) when trimming height.
    var ratio = limit.width / limit.height, sx = 0, sy = 0;
    var sw = bitmap.width, sh = bitmap.height;
    if (sw / sh > ratio) { sw = Math.round(sh * ratio); sx = Math.round((bitmap.width - sw) / 2); }
    else { sh = Math.round(sw / ratio); sy = Math.round((bitmap.height - sh) / 4); }
    var canvas = document.createElement("canvas");
    canvas.width = limit.width;
    canvas.height = limit.height;
    var context = canvas.getContext("2d");
    context.fillStyle = "#fff";
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.drawImage(bitmap, sx, sy, sw, sh, 0, 0, canvas.width, canvas.height);
    return canvas;
  }

  async function shrink(file, kind) {
    var limit = LIMITS[kind];
    var bitmap = await decode(file);
    var canvas = kind === "photo" ? drawPhoto(bitmap, limit) : drawDocument(bitmap, limit);
    for (var attempt = 0; attempt < 8; attempt += 1) {
      for (var quality = 0.85; quality >= 0.35; quality -= 0.1) {
        var blob = await canvasToBlob(canvas, quality);
        if (blob && blob.size <= limit.maxBytes) return blob;
      }
      if (kind === "photo") break;
      var smaller = document.createElement("canvas");
      smaller.width = Math.round(canvas.width * 0.8);
      smaller.height = Math.round(canvas.height * 0.8);
      smaller.getContext("2d").drawImage(canvas, 0, 0, smaller.width, smaller.height);
      canvas = smaller;
    }
    throw new Error("cannot shrink");
  }

  function upload(form, body, status, progress) {
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("HX-Request", "true");
    xhr.upload.onprogress = function (event) {
      if (!event.lengthComputable) return;
      progress.hidden = false;
      progress.value = Math.round(100 * event.loaded / event.total);
      progress.textContent = progress.value + "%";
    };
    xhr.onload = function () {
      var target = xhr.getResponseHeader("HX-Redirect");
      if (target) {  // only a new #anchor on this same page: assign() alone would just scroll
        var next = new URL(target, window.location.href), here = window.location;
        var samePage = next.pathname + next.search === here.pathname + here.search;
        window.location.assign(next.href);
        if (samePage) here.reload();
        return;
      }
      var retarget = xhr.getResponseHeader("HX-Retarget");
      if (retarget) {
        var box = document.querySelector(retarget);
        if (box) box.innerHTML = xhr.responseText;
        status.textContent = "上传失败，请看页面上方的提示";
        return;
      }
      var current = document.getElementById("materials");
      if (current && xhr.responseText.indexOf('id="materials"') !== -1) {
        current.outerHTML = xhr.responseText;
        var problem = document.querySelector("#materials .field__error");
        if (problem) problem.scrollIntoView({ block: "center" });
      } else {
        status.textContent = "上传失败（" + xhr.status + "），请稍后重试";
      }
    };
    xhr.onerror = function () {
      status.textContent = "网络连接失败，请检查网络后重新选择照片上传";
      form.querySelector(".upload__submit").style.display = "block";
    };
    xhr.send(body);
  }

  document.addEventListener("change", async function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("form[data-upload] input[type=file]")) return;
    var form = input.form, file = input.files && input.files[0];
    if (!file) return;
    var kind = form.getAttribute("data-upload");
    var status = form.querySelector(".upload__status");
    var progress = form.querySelector(".upload__progress");
    var preview = form.querySelector(".upload__preview");
    if (!preview) {  // made here: an <img> in the page would need a src before there is one
      preview = document.createElement("img");
      preview.className = "upload__preview";
      preview.alt = "";
      form.insertBefore(preview, progress);
    }
    preview.src = URL.createObjectURL(file);
    status.textContent = "正在处理照片…";
    var blob = file;
    // Only JPEG or PNG is shrunk: anything else (a GIF named .jpg…) goes up as it is, so the
    // server's message names the format instead of a canvas quietly converting it.
    try {
      var head = new Uint8Array(await file.slice(0, 4).arrayBuffer());
      var jpeg = head[0] === 0xFF && head[1] === 0xD8, png = head[0] === 0x89 && head[1] === 0x50;
      if (jpeg || png) blob = await shrink(file, kind);
    } catch (error) {
      blob = file;  // the server will do it
    }
    var body = new FormData();
    body.append("csrf_token", form.querySelector("input[name=csrf_token]").value);
    body.append("photo", blob, "photo.jpg");
    status.textContent = "正在上传（" + Math.max(1, Math.round(blob.size / 1024)) + " KB）…";
    upload(form, body, status, progress);
  });

  /* A photo field of a larger form (账号申诉: three photos and typed fields in one form):
     the chosen picture is shrunk in place, so the form posts as it would without JavaScript,
     only smaller. A browser that cannot replace a file input's files sends the original. */
  document.addEventListener("change", async function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-shrink]")) return;
    var file = input.files && input.files[0];
    if (!file || !window.DataTransfer) return;  // replacing the files fires no new change
    try {
      var head = new Uint8Array(await file.slice(0, 4).arrayBuffer());
      if (!((head[0] === 0xFF && head[1] === 0xD8) || (head[0] === 0x89 && head[1] === 0x50))) return;
      var blob = await shrink(file, input.getAttribute("data-shrink"));
      var files = new DataTransfer();
      var name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
      files.items.add(new File([blob], name, { type: "image/jpeg" }));
      input.files = files.files;
    } catch (error) {
      /* the original goes up; the server does the work */
    }
  });
})();
