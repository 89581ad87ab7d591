from django import template

register = template.Library()


@register.filter
def agreed_by(section, party):
    return section.agreed_by(party)
