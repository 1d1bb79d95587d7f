from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('data', '0005_question_answer_again_permission'),
    ]

    operations = [
        migrations.AddField(
            model_name='slackevent',
            name='processed_at',
            field=models.DateTimeField(blank=True, help_text='When its job did what the event asked (e.g. greeted); a retry then does not.', null=True),
        ),
    ]
