from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Mentorship administration"

urlpatterns = [
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("agreements.urls")),
]
