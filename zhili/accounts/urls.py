from django.urls import path

from zhili.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("position/", views.SwitchPositionView.as_view(), name="switch_position"),
    path("password/", views.OwnPasswordView.as_view(), name="own_password"),
    path("users/", views.UserListView.as_view(), name="users"),
    path("users/new/", views.UserCreateView.as_view(), name="user_create"),
    path("users/<int:pk>/", views.UserDetailView.as_view(), name="user_detail"),
    path("users/<int:pk>/edit/", views.UserEditView.as_view(), name="user_edit"),
    path("users/<int:pk>/password/", views.UserPasswordView.as_view(), name="user_password"),
    path("users/<int:pk>/active/", views.UserActivateView.as_view(), name="user_activate"),
    path("users/<int:pk>/positions/new/", views.PositionGrantView.as_view(),
         name="position_grant"),
    path("positions/<int:pk>/end/", views.PositionEndView.as_view(), name="position_end"),
    path("orgs/<int:pk>/api-keys/new/", views.ApiKeyCreateView.as_view(), name="apikey_create"),
    path("api-keys/<int:pk>/revoke/", views.ApiKeyRevokeView.as_view(), name="apikey_revoke"),
]
