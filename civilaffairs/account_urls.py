from django.urls import path

from civilaffairs.views import account

urlpatterns = [
    path("", account.AccountView.as_view(), name="account"),
    path("password/", account.PasswordChangeView.as_view(), name="password-change"),
    path("2fa/verify/", account.OTPVerifyView.as_view(), name="otp-verify"),
    path("2fa/setup/", account.OTPSetupView.as_view(), name="otp-setup"),
    path("2fa/disable/", account.OTPDisableView.as_view(), name="otp-disable"),
]
