/* The cashier inside WeChat: hand the signed JSAPI parameters to WeixinJSBridge. */
(function () {
  "use strict";
  function pay() {
    var holder = document.getElementById("wechat-pay");
    var box = document.getElementById("wechat-pay-box");
    if (!holder || !box || !window.WeixinJSBridge) return;
    window.WeixinJSBridge.invoke("getBrandWCPayRequest", JSON.parse(holder.textContent), function (res) {
      if (res && res.err_msg === "get_brand_wcpay_request:ok") {
        window.location.href = box.getAttribute("data-done");
      }
    });
  }
  function start() {
    var again = document.getElementById("wechat-pay-again");
    if (again) again.addEventListener("click", pay);
    if (window.WeixinJSBridge) {
      pay();
    } else {
      document.addEventListener("WeixinJSBridgeReady", pay, false);
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
