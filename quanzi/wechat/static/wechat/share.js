/* Sets the page's WeChat share card with the server-signed JS-SDK configuration. */
(function () {
  "use strict";
  function setUp() {
    var holder = document.getElementById("wechat-share");
    if (!holder || !window.wx) return;
    var card = JSON.parse(holder.textContent);
    window.wx.config(Object.assign({ debug: false }, card.config));
    window.wx.ready(function () {
      window.wx.updateAppMessageShareData(card.share);
      window.wx.updateTimelineShareData({ title: card.share.title, link: card.share.link, imgUrl: card.share.imgUrl });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
