from django.urls import path

from zhili.special import views, views_more

app_name = "special"

urlpatterns = [
    path("", views.SupervisionListView.as_view(), name="list"),
    path("new/", views.IntakeView.as_view(), name="intake"),
    path("m/", views.MobileView.as_view(), name="mobile"),
    path("<int:pk>/", views.SupervisionDetailView.as_view(), name="detail"),
    path("<int:pk>/details/", views.DetailsEditView.as_view(), name="details"),
    path("<int:pk>/visit/", views.VisitView.as_view(), name="visit"),
    path("<int:pk>/risk/", views.RiskView.as_view(), name="risk"),
    path("<int:pk>/level/", views.LevelView.as_view(), name="level"),
    path("<int:pk>/helpers/", views.HelperAddView.as_view(), name="helper_add"),
    path("<int:pk>/helpers/<int:helper>/remove/", views.HelperRemoveView.as_view(),
         name="helper_remove"),
    path("<int:pk>/lost-contact/", views.LostContactView.as_view(), name="lost_contact"),
    path("<int:pk>/release/", views.ReleaseView.as_view(), name="release"),
    path("<int:pk>/handover/", views_more.HandoverProposeView.as_view(), name="handover_propose"),
    path("handovers/", views_more.HandoverListView.as_view(), name="handovers"),
    path("handovers/<int:pk>/", views_more.HandoverDetailView.as_view(), name="handover"),
    path("handovers/<int:pk>/<slug:action>/", views_more.HandoverActView.as_view(),
         name="handover_act"),
    path("coverage/", views_more.CoverageView.as_view(), name="coverage"),
    path("categories/", views_more.CategoryListView.as_view(), name="categories"),
    path("categories/new/", views_more.CategoryCreateView.as_view(), name="category_create"),
    path("categories/<int:pk>/", views_more.CategoryEditView.as_view(), name="category_edit"),
    path("photos/<int:pk>/", views.PhotoView.as_view(), name="photo"),
]
