from django.urls import path

from zhili.delivery import views_video

urlpatterns = [
    path("", views_video.VideoEvidenceView.as_view(), name="video_evidence"),
]
