/* Community pages: "use my location" asks the browser for its position and lists the
   pickup points nearest first. */
(function () {
  "use strict";
  var button = document.getElementById("locate");
  if (!button) { return; }
  button.addEventListener("click", function () {
    var note = document.getElementById("locate-note");
    if (!navigator.geolocation) { note.textContent = note.getAttribute("data-unsupported"); return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      var lat = pos.coords.latitude.toFixed(6), lng = pos.coords.longitude.toFixed(6);
      window.location.search = "?lat=" + lat + "&lng=" + lng;
    }, function () { note.textContent = note.getAttribute("data-denied"); }, { timeout: 10000 });
  });
})();
