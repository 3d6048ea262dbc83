from django.shortcuts import render
from django.views.decorators.http import require_safe


@require_safe
def search(request):
    return render(request, "archive/search.html", {"query": request.GET.get("q", "")})
